package rsuota.fleet.rollout;

import java.time.Clock;
import java.util.function.Supplier;
import rsuota.fleet.audit.AuditLog;
import rsuota.fleet.policy.LinkTemplates;
import rsuota.fleet.policy.TelemetryWindow;
import rsuota.fleet.store.Database;

/** Wires the rollout engine and the operator service over one store (the controller's composition root uses it). */
public final class RolloutModule {
    private final RolloutEngine engine;
    private final Rollouts rollouts;

    /**
     * @param controllerUrl  the controller's URL as devices and humans reach it (bundle URLs, links)
     * @param desiredWritten called after a commit that wrote desired states (wakes the publisher)
     */
    public RolloutModule(Database db, AuditLog audit, Clock clock, TelemetryWindow window, LinkTemplates links,
                         Supplier<String> controllerUrl, AlertSink alerts, Runnable desiredWritten) {
        this(db, db, audit, clock, window, links, controllerUrl, alerts, desiredWritten);
    }

    /**
     * As above, with the engine's ticks on {@code engineDb}: the store fenced by the leader lease when
     * several replicas share it (operators' calls on any replica use {@code db}).
     */
    public RolloutModule(Database db, Database engineDb, AuditLog audit, Clock clock, TelemetryWindow window, LinkTemplates links,
                         Supplier<String> controllerUrl, AlertSink alerts, Runnable desiredWritten) {
        RolloutActions actions = new RolloutActions(audit, new DesiredWriter(controllerUrl), window, links, controllerUrl, clock);
        this.engine = new RolloutEngine(engineDb, actions, alerts, desiredWritten);
        this.rollouts = new Rollouts(db, actions, engine, clock, desiredWritten);
    }

    public RolloutEngine engine() {
        return engine;
    }

    public Rollouts rollouts() {
        return rollouts;
    }
}
