package rsuota.fleet.policy;

/** One device's KPIs (averaged over the rule window), as {@code MqttState.Kpis} reports them. */
public record DeviceKpis(double availability, double lagMedianMs, double lagP95Ms, double droppedRatio) {}
