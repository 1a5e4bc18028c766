package rsuota.fleet.store;

/** The store's tables, named once so that counts never build SQL from caller text. */
public enum Table {
    DEVICES("devices"), RELEASES("releases"), COHORTS("cohorts"), COHORT_MEMBERS("cohort_members"),
    TOKENS("tokens"), INCIDENTS("incidents"), AUDIT("audit");

    private final String sqlName;

    Table(String sqlName) {
        this.sqlName = sqlName;
    }

    public String sqlName() {
        return sqlName;
    }
}
