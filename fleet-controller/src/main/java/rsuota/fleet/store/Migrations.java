package rsuota.fleet.store;

import java.util.List;

/**
 * The schema, as the ordered list of migrations that builds it. Append new migrations; never edit
 * a released one (stores in the field have already applied it).
 *
 * <p>Portability rules, so the same statements run on PostgreSQL: times are BIGINT epoch
 * milliseconds, JSON is TEXT, ids are assigned by the application (no AUTOINCREMENT/SERIAL),
 * and constraints are plain SQL (UNIQUE, composite FOREIGN KEY).
 */
public final class Migrations {
    private Migrations() {}

    public static final List<Migration> ALL = List.of(
            new Migration(1, "devices, releases, cohorts, tokens, audit", List.of(
                    """
                    CREATE TABLE devices (
                      id VARCHAR(128) PRIMARY KEY,
                      variant VARCHAR(64) NOT NULL,
                      region VARCHAR(64),
                      corridor VARCHAR(64),
                      site VARCHAR(64),
                      tags TEXT NOT NULL,
                      last_seen BIGINT,
                      reported_state TEXT,
                      created_at BIGINT NOT NULL,
                      updated_at BIGINT NOT NULL
                    )""",
                    "CREATE INDEX devices_region ON devices (region)",
                    "CREATE INDEX devices_corridor ON devices (corridor)",
                    """
                    CREATE TABLE releases (
                      version VARCHAR(64) PRIMARY KEY,
                      bundle_url TEXT NOT NULL,
                      manifest_digest CHAR(64) NOT NULL,
                      manifest TEXT NOT NULL,
                      compatible TEXT NOT NULL,
                      security_version BIGINT NOT NULL,
                      previous_stable VARCHAR(64) REFERENCES releases (version),
                      notes TEXT,
                      signer TEXT NOT NULL,
                      created_at BIGINT NOT NULL,
                      created_by TEXT NOT NULL
                    )""",
                    """
                    CREATE TABLE cohorts (
                      id BIGINT PRIMARY KEY,
                      release VARCHAR(64) NOT NULL REFERENCES releases (version),
                      name VARCHAR(64) NOT NULL,
                      kind VARCHAR(16) NOT NULL,
                      filter TEXT,
                      size_cap INTEGER,
                      created_at BIGINT NOT NULL,
                      created_by TEXT NOT NULL,
                      CONSTRAINT cohorts_name_per_release UNIQUE (release, name),
                      CONSTRAINT cohorts_id_release UNIQUE (id, release)
                    )""",
                    // The member row repeats the cohort's release so that the store itself can say
                    // "one cohort per device per release"; the composite foreign key keeps that copy
                    // equal to the cohort's own release.
                    """
                    CREATE TABLE cohort_members (
                      cohort_id BIGINT NOT NULL,
                      device_id VARCHAR(128) NOT NULL REFERENCES devices (id),
                      release VARCHAR(64) NOT NULL,
                      added_at BIGINT NOT NULL,
                      PRIMARY KEY (cohort_id, device_id),
                      CONSTRAINT cohort_members_one_per_release UNIQUE (release, device_id),
                      CONSTRAINT cohort_members_cohort FOREIGN KEY (cohort_id, release) REFERENCES cohorts (id, release)
                    )""",
                    "CREATE INDEX cohort_members_device ON cohort_members (device_id)",
                    """
                    CREATE TABLE tokens (
                      id BIGINT PRIMARY KEY,
                      hash CHAR(64) NOT NULL UNIQUE,
                      role VARCHAR(32) NOT NULL,
                      label VARCHAR(128) NOT NULL UNIQUE,
                      created_at BIGINT NOT NULL,
                      created_by TEXT NOT NULL
                    )""",
                    """
                    CREATE TABLE audit (
                      seq BIGINT PRIMARY KEY,
                      at BIGINT NOT NULL,
                      actor TEXT NOT NULL,
                      role VARCHAR(32) NOT NULL,
                      action VARCHAR(64) NOT NULL,
                      target TEXT NOT NULL,
                      reason TEXT,
                      detail TEXT NOT NULL,
                      prev_hash CHAR(64) NOT NULL,
                      hash CHAR(64) NOT NULL
                    )""")),
            new Migration(2, "incidents from the incident tool's webhook", List.of(
                    """
                    CREATE TABLE incidents (
                      id VARCHAR(128) PRIMARY KEY,
                      severity VARCHAR(8) NOT NULL,
                      state VARCHAR(16) NOT NULL,
                      release VARCHAR(64),
                      title TEXT,
                      opened_at BIGINT NOT NULL,
                      updated_at BIGINT NOT NULL,
                      resolved_at BIGINT
                    )""",
                    "CREATE INDEX incidents_release_state ON incidents (release, state)")),
            new Migration(3, "device link (events, presence, desired states, commands), rollouts, pause rules, diagnostics", List.of(
                    // Events keyed by (device, seq): the primary key is the duplicate filter, so a
                    // re-sent event from a device's outbox can never be counted twice.
                    """
                    CREATE TABLE device_events (
                      device_id VARCHAR(128) NOT NULL,
                      seq BIGINT NOT NULL,
                      at BIGINT,
                      received_at BIGINT NOT NULL,
                      type VARCHAR(32) NOT NULL,
                      state VARCHAR(32),
                      release VARCHAR(64),
                      reason VARCHAR(128),
                      detail TEXT NOT NULL,
                      PRIMARY KEY (device_id, seq)
                    )""",
                    "CREATE INDEX device_events_received ON device_events (received_at)",
                    // Per device link bookkeeping; no foreign key: events may come before the first state.
                    """
                    CREATE TABLE device_links (
                      device_id VARCHAR(128) PRIMARY KEY,
                      max_seq BIGINT NOT NULL,
                      events BIGINT NOT NULL,
                      duplicates BIGINT NOT NULL,
                      gaps BIGINT NOT NULL,
                      presence VARCHAR(16),
                      presence_at BIGINT,
                      updated_at BIGINT NOT NULL
                    )""",
                    // The retained desired state of each device; rev only grows. published_rev < rev
                    // means written but not yet confirmed by the broker (the publisher retries it).
                    """
                    CREATE TABLE desired_states (
                      device_id VARCHAR(128) PRIMARY KEY,
                      rev BIGINT NOT NULL,
                      payload TEXT NOT NULL,
                      rollout_id BIGINT,
                      written_at BIGINT NOT NULL,
                      published_rev BIGINT NOT NULL
                    )""",
                    """
                    CREATE TABLE commands (
                      id VARCHAR(64) PRIMARY KEY,
                      device_id VARCHAR(128) NOT NULL,
                      type VARCHAR(64) NOT NULL,
                      payload TEXT NOT NULL,
                      issued_at BIGINT NOT NULL,
                      expires_at BIGINT NOT NULL,
                      issued_by TEXT NOT NULL,
                      published_at BIGINT,
                      acked_at BIGINT,
                      ack_result TEXT
                    )""",
                    """
                    CREATE TABLE rollouts (
                      id BIGINT PRIMARY KEY,
                      release VARCHAR(64) NOT NULL REFERENCES releases (version),
                      state VARCHAR(16) NOT NULL,
                      phase_index INTEGER NOT NULL,
                      settings TEXT NOT NULL,
                      rules TEXT NOT NULL,
                      attention TEXT,
                      created_at BIGINT NOT NULL,
                      created_by TEXT NOT NULL,
                      started_at BIGINT,
                      ended_at BIGINT,
                      updated_at BIGINT NOT NULL
                    )""",
                    // A cohort belongs to at most one rollout phase: two rollouts driving the same
                    // devices would fight over their desired state.
                    """
                    CREATE TABLE rollout_phases (
                      rollout_id BIGINT NOT NULL REFERENCES rollouts (id),
                      idx INTEGER NOT NULL,
                      name VARCHAR(64) NOT NULL,
                      cohort_id BIGINT NOT NULL REFERENCES cohorts (id),
                      observation_ms BIGINT NOT NULL,
                      approval VARCHAR(8) NOT NULL,
                      criteria TEXT NOT NULL,
                      state VARCHAR(24) NOT NULL,
                      started_at BIGINT,
                      window_ends_at BIGINT,
                      gate_met_at BIGINT,
                      ended_at BIGINT,
                      approved_by TEXT,
                      PRIMARY KEY (rollout_id, idx),
                      CONSTRAINT rollout_phases_one_per_cohort UNIQUE (cohort_id)
                    )""",
                    // One row per device and rollout: the primary key is what makes a dispatch
                    // happen once, however often the engine restarts.
                    """
                    CREATE TABLE rollout_devices (
                      rollout_id BIGINT NOT NULL REFERENCES rollouts (id),
                      device_id VARCHAR(128) NOT NULL REFERENCES devices (id),
                      phase_idx INTEGER NOT NULL,
                      corridor VARCHAR(64),
                      release VARCHAR(64) NOT NULL,
                      active INTEGER NOT NULL,
                      rev BIGINT,
                      dispatched_at BIGINT,
                      held INTEGER NOT NULL,
                      device_state VARCHAR(32),
                      state_reason VARCHAR(128),
                      state_at BIGINT,
                      last_report_at BIGINT,
                      activated_at BIGINT,
                      rollback_kind VARCHAR(16),
                      rollback_reason VARCHAR(128),
                      rollback_rev BIGINT,
                      rollback_at BIGINT,
                      rollback_deadline BIGINT,
                      rollback_result VARCHAR(24),
                      overdue_at BIGINT,
                      PRIMARY KEY (rollout_id, device_id)
                    )""",
                    "CREATE INDEX rollout_devices_device ON rollout_devices (device_id, active)",
                    """
                    CREATE TABLE rule_timers (
                      rollout_id BIGINT NOT NULL REFERENCES rollouts (id),
                      rule_key VARCHAR(128) NOT NULL,
                      breach_since BIGINT,
                      verdict VARCHAR(16) NOT NULL,
                      updated_at BIGINT NOT NULL,
                      PRIMARY KEY (rollout_id, rule_key)
                    )""",
                    """
                    CREATE TABLE pause_events (
                      id BIGINT PRIMARY KEY,
                      rollout_id BIGINT NOT NULL REFERENCES rollouts (id),
                      at BIGINT NOT NULL,
                      cause VARCHAR(16) NOT NULL,
                      rule VARCHAR(64),
                      rule_version INTEGER,
                      cohort_id BIGINT,
                      findings TEXT NOT NULL,
                      actor TEXT NOT NULL,
                      reason TEXT,
                      resumed_at BIGINT,
                      resumed_by TEXT,
                      resume_reason TEXT
                    )""",
                    "CREATE INDEX pause_events_rollout ON pause_events (rollout_id)",
                    """
                    CREATE TABLE alerts (
                      id BIGINT PRIMARY KEY,
                      at BIGINT NOT NULL,
                      kind VARCHAR(32) NOT NULL,
                      rollout_id BIGINT,
                      device_id VARCHAR(128),
                      detail TEXT NOT NULL,
                      delivered_at BIGINT,
                      delivery TEXT
                    )""",
                    """
                    CREATE TABLE diagnostics (
                      id BIGINT PRIMARY KEY,
                      device_id VARCHAR(128) NOT NULL,
                      command_id VARCHAR(64) NOT NULL,
                      upload_hash CHAR(64) NOT NULL UNIQUE,
                      total BIGINT,
                      received BIGINT NOT NULL,
                      requested_at BIGINT NOT NULL,
                      expires_at BIGINT NOT NULL,
                      requested_by TEXT NOT NULL,
                      completed_at BIGINT
                    )""")),
            new Migration(4, "KPI samples: the rules' windows and the whole observation window survive a restart", List.of(
                    // One row per device report (resolution 0), merged with age into 1-minute and 10-minute means
                    // (KpiSamples.compact); n counts the reports a row stands for, so means stay weighted.
                    """
                    CREATE TABLE kpi_samples (
                      device_id VARCHAR(128) NOT NULL,
                      resolution BIGINT NOT NULL,
                      at BIGINT NOT NULL,
                      n INTEGER NOT NULL,
                      availability DOUBLE PRECISION NOT NULL,
                      lag_median_ms DOUBLE PRECISION NOT NULL,
                      lag_p95_ms DOUBLE PRECISION NOT NULL,
                      dropped_ratio DOUBLE PRECISION NOT NULL,
                      PRIMARY KEY (device_id, resolution, at)
                    )""",
                    "CREATE INDEX kpi_samples_age ON kpi_samples (resolution, at)")),
            new Migration(5, "token lifecycle: expiry, last use, revocation (tokens from before have no expiry until rotated)", List.of(
                    "ALTER TABLE tokens ADD COLUMN expires_at BIGINT",
                    "ALTER TABLE tokens ADD COLUMN last_used_at BIGINT",
                    "ALTER TABLE tokens ADD COLUMN revoked_at BIGINT",
                    "ALTER TABLE tokens ADD COLUMN revoked_by TEXT")),
            new Migration(6, "release withdrawal: who took a release back, when and why", List.of(
                    "ALTER TABLE releases ADD COLUMN withdrawn_at BIGINT",
                    "ALTER TABLE releases ADD COLUMN withdrawn_by TEXT",
                    "ALTER TABLE releases ADD COLUMN withdraw_reason TEXT")),
            // Coordination state, not fleet data: not in Table (not copied by migrate-store, not in snapshots).
            new Migration(7, "leader lease with a fencing token, for several controller replicas on one store", List.of(
                    """
                    CREATE TABLE leader_lease (
                      name VARCHAR(32) PRIMARY KEY,
                      holder VARCHAR(200) NOT NULL,
                      token BIGINT NOT NULL,
                      acquired_at BIGINT NOT NULL,
                      renewed_at BIGINT NOT NULL,
                      expires_at BIGINT NOT NULL
                    )""")),
            new Migration(8, "technician on the unit: locked_by_technician or locally_managed, by whom, since when, why (every rollout sees it)", List.of(
                    """
                    CREATE TABLE technician_holds (
                        device_id VARCHAR(128) PRIMARY KEY,
                        state VARCHAR(32) NOT NULL,
                        held_by TEXT NOT NULL,
                        since BIGINT,
                        reason TEXT
                    )""")),
            // Set when a phase opens and again at dispatch; NULL: the unit reported no release (or the row predates 9).
            new Migration(9, "the release each rollout unit reported running when it was dispatched: expected bytes per source release", List.of(
                    "ALTER TABLE rollout_devices ADD COLUMN from_release VARCHAR(64)")));

    public static int latest() {
        return ALL.get(ALL.size() - 1).version();
    }
}
