package rsuota.fleet.store;

/**
 * Whether the running write transaction holds the store-wide write order. Writes that touch only a
 * device's own rows (telemetry ingest: snapshot, events, KPI samples, the unit's rollout progress)
 * run beside each other on PostgreSQL ({@link Database#ingest}); the writes that must be serialised - an audit append (one
 * linear chain) and an application-assigned id (MAX + 1) - call {@link #require()}, which refuses
 * to go on outside the order so that the store reruns the whole transaction inside it.
 *
 * <p>The mark is per thread: a transaction's work runs on the caller's thread.
 */
public final class WriteOrder {
    private static final ThreadLocal<Boolean> UNORDERED = ThreadLocal.withInitial(() -> Boolean.FALSE);

    private WriteOrder() {}

    /** Thrown (and caught by the store) when work outside the write order needs it. */
    static final class Needed extends RuntimeException {
        Needed(String what) {
            super(what + " needs the store-wide write order", null, false, false);
        }
    }

    /**
     * Refuses to go on in a transaction that runs beside other writers: the store rolls it back and
     * runs it again under the store-wide lock. A no-op in every ordinary write transaction.
     *
     * @param what the write that needs the order (for the log)
     */
    public static void require(String what) {
        if (UNORDERED.get()) throw new Needed(what);
    }

    /** True inside ingest work running beside other ingest writers: read-modify-write rows must be locked before they are read. */
    public static boolean beside() {
        return UNORDERED.get();
    }

    static void enterUnordered() {
        UNORDERED.set(Boolean.TRUE);
    }

    static void leaveUnordered() {
        UNORDERED.remove();
    }
}
