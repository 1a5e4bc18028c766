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
                    "CREATE INDEX incidents_release_state ON incidents (release, state)")));

    public static int latest() {
        return ALL.get(ALL.size() - 1).version();
    }
}
