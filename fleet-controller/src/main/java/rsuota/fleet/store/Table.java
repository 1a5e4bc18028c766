package rsuota.fleet.store;

/** The store's tables, named once so that counts never build SQL from caller text. */
public enum Table {
    DEVICES("devices"), RELEASES("releases"), COHORTS("cohorts"), COHORT_MEMBERS("cohort_members"),
    TOKENS("tokens"), INCIDENTS("incidents"), AUDIT("audit"),
    DEVICE_EVENTS("device_events"), DEVICE_LINKS("device_links"), DESIRED_STATES("desired_states"), COMMANDS("commands"),
    ROLLOUTS("rollouts"), ROLLOUT_PHASES("rollout_phases"), ROLLOUT_DEVICES("rollout_devices"), RULE_TIMERS("rule_timers"),
    PAUSE_EVENTS("pause_events"), ALERTS("alerts"), DIAGNOSTICS("diagnostics"), KPI_SAMPLES("kpi_samples"),
    TECHNICIAN_HOLDS("technician_holds");

    private final String sqlName;

    Table(String sqlName) {
        this.sqlName = sqlName;
    }

    public String sqlName() {
        return sqlName;
    }
}
