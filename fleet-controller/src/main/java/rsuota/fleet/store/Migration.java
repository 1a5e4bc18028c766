package rsuota.fleet.store;

import java.util.List;

/**
 * One numbered schema change, applied in its own transaction together with its schema_version
 * row: a crash mid-migration leaves the store at the previous version, never half-migrated.
 * Statements must be portable DDL (SQLite and PostgreSQL).
 */
public record Migration(int version, String description, List<String> statements) {
    public Migration {
        if (version < 1) throw new IllegalArgumentException("migration versions start at 1");
        statements = List.copyOf(statements);
    }
}
