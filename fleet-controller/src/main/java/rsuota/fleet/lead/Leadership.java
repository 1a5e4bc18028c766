package rsuota.fleet.lead;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.Tx;

/**
 * Which replica runs the leader's work (rollout engine, rule evaluation, desired-state dispatch).
 * {@link #sole()} is the single controller on its SQLite store: always the leader, nothing to check.
 * {@link #lease} is one of several replicas on a shared store: it takes or renews the
 * {@link LeaderLease} every {@code ttl / 5}; a replica that dies stops renewing and another takes
 * over once the lease expires (within {@code ttl} plus one renewal interval).
 */
public abstract class Leadership implements AutoCloseable {

    /** Runs leader-only work; {@link #check} fences each of its transactions. */
    public abstract boolean isLeader();

    /** Leads now and, unless renewed meanwhile, for at least {@code margin} more (always true for the sole controller). */
    public abstract boolean leadsFor(Duration margin);

    /** "leader" or "follower". */
    public String role() {
        return isLeader() ? "leader" : "follower";
    }

    /** Refuses the transaction unless this replica still holds the lease (no-op for the sole controller). */
    public abstract void check(Tx tx) throws java.sql.SQLException, FleetException;

    /** The fencing token this replica leads with (0 when it does not lead or is the sole controller). */
    public abstract long token();

    /** Time since the lease was last renewed by its holder, as this replica last read it (null for the sole controller). */
    public abstract Duration leaseAge();

    /** Begins renewing; {@code onLeading} runs each time this replica becomes the leader. */
    public abstract void start(Runnable onLeading);

    /** Stops renewing and gives the lease up if held. */
    @Override
    public abstract void close();

    public static Leadership sole() {
        return new Leadership() {
            public boolean isLeader() {
                return true;
            }

            public boolean leadsFor(Duration margin) {
                return true;
            }

            public void check(Tx tx) {}

            public long token() {
                return 0;
            }

            public Duration leaseAge() {
                return null;
            }

            public void start(Runnable onLeading) {}

            public void close() {}
        };
    }

    public static Lease lease(Database db, String holder, Clock clock, Duration ttl) {
        return new Lease(db, holder, clock, ttl);
    }

    /** A replica among several, led through the lease row. */
    public static final class Lease extends Leadership {
        private static final Logger log = LoggerFactory.getLogger(Lease.class);
        private final Database db;
        private final String holder;
        private final Clock clock;
        private final Duration ttl;
        private volatile LeaderLease.Lease last;
        private volatile Instant myUntil = Instant.EPOCH;
        private volatile long myToken;
        private volatile Runnable onLeading = () -> {};
        private ScheduledExecutorService renewer;

        Lease(Database db, String holder, Clock clock, Duration ttl) {
            this.db = db;
            this.holder = holder;
            this.clock = clock;
            this.ttl = ttl;
        }

        public String holder() {
            return holder;
        }

        /** One take-or-renew round; returns whether this replica leads now. Public for tests and for the first round at start. */
        public boolean renewOnce() {
            boolean was = isLeader();
            Instant now = clock.instant();
            try {
                // Outside the store-wide write order: a long write elsewhere must not cost this replica its lease.
                LeaderLease.Lease l = db.ownRows(tx -> LeaderLease.acquireOrRenew(tx.connection(), holder, now, ttl));
                last = l;
                if (l.holder().equals(holder)) {
                    myToken = l.token();
                    myUntil = l.expiresAt();
                } else {
                    myToken = 0;
                    myUntil = Instant.EPOCH;
                }
            } catch (FleetException | RuntimeException e) {
                // The store is unreachable: keep leading only until the lease this replica holds runs out.
                log.warn("leader lease: cannot renew ({}); {}", e.getMessage(), isLeader() ? "leading until " + myUntil : "follower");
            }
            boolean now_ = isLeader();
            if (now_ && !was) {
                log.info("leader lease: {} leads with fencing token {}", holder, myToken);
                onLeading.run();
            } else if (!now_ && was) {
                log.warn("leader lease: {} is a follower now (lease {})", holder, last);
            }
            return now_;
        }

        @Override
        public boolean isLeader() {
            return myToken > 0 && clock.instant().isBefore(myUntil);
        }

        @Override
        public boolean leadsFor(Duration margin) {
            return myToken > 0 && clock.instant().plus(margin).isBefore(myUntil);
        }

        @Override
        public void check(Tx tx) throws java.sql.SQLException, FleetException {
            LeaderLease.check(tx.connection(), holder, myToken, clock.instant());
        }

        @Override
        public long token() {
            return isLeader() ? myToken : 0;
        }

        @Override
        public Duration leaseAge() {
            LeaderLease.Lease l = last;
            return l == null ? null : Duration.between(l.renewedAt(), clock.instant());
        }

        @Override
        public synchronized void start(Runnable onLeading) {
            this.onLeading = onLeading;
            if (renewer != null) return;
            renewer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "leader-lease");
                t.setDaemon(true);
                return t;
            });
            long every = Math.max(100, ttl.toMillis() / 5);
            renewer.scheduleWithFixedDelay(this::renewOnce, 0, every, TimeUnit.MILLISECONDS);
            if (isLeader()) onLeading.run();
        }

        @Override
        public synchronized void close() {
            if (renewer != null) {
                renewer.shutdownNow();
                try {
                    renewer.awaitTermination(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            long token = myToken;
            myToken = 0;
            if (token > 0) {
                try {
                    db.ownRows(tx -> {
                        LeaderLease.release(tx.connection(), holder, token, clock.instant());
                        return null;
                    });
                } catch (FleetException | RuntimeException e) {
                    log.warn("leader lease: could not give the lease up ({}); another replica takes over when it expires", e.getMessage());
                }
            }
        }
    }
}
