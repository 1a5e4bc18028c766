package rsuota.fleet.lead;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.PostgresDatabase;
import rsuota.fleet.store.PostgresLocation;
import rsuota.fixtures.pg.PostgresServer;
import rsuota.fixtures.time.SettableClock;

/**
 * On PostgreSQL the leader lease is renewed and taken over outside the store-wide write order: a long ordered write on
 * another replica (an operator creating a 100,000-unit rollout) neither costs the leader its lease nor keeps a
 * follower from taking over an expired one. Before, the renewal queued behind that write and failed on the lock
 * timeout (5 s), and a leader lost its lease in the middle of a large rollout's creation.
 */
class LeaseBesideLongWritesTest {
    static final Duration TTL = Duration.ofSeconds(10);
    final SettableClock clock = new SettableClock(Instant.parse("2026-03-01T10:00:00Z"));

    @Test
    void renewalsAndATakeoverGoOnWhileAnotherReplicaHoldsTheWriteOrder() throws Exception {
        PostgresServer pg = PostgresServer.shared();
        PostgresLocation loc = PostgresLocation.parse(pg.url(pg.createDatabase("lease_beside")));
        try (PostgresDatabase a = PostgresDatabase.open(loc, pg.password(), clock);
             PostgresDatabase b = PostgresDatabase.open(loc, pg.password(), clock)) {
            Leadership.Lease leader = Leadership.lease(a, "replica-a", clock, TTL);
            Leadership.Lease follower = Leadership.lease(b, "replica-b", clock, TTL);
            assertThat(leader.renewOnce()).isTrue();
            long token = leader.token();

            CountDownLatch holding = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                Future<?> longWrite = pool.submit(() -> b.write(tx -> {
                    holding.countDown();
                    try {
                        assertThat(release.await(60, TimeUnit.SECONDS)).isTrue();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return null;
                }));
                assertThat(holding.await(30, TimeUnit.SECONDS)).isTrue();
                assertThat(writeOrderHeld(a)).as("the store-wide write order is held by b's write").isEqualTo(1);

                clock.advance(Duration.ofSeconds(4));
                assertThat(leader.renewOnce()).isTrue();
                assertThat(lease(a).expiresAt()).as("renewed while the order is held").isEqualTo(clock.instant().plus(TTL));

                clock.advance(TTL.plusSeconds(1)); // the leader stalls: its lease runs out
                assertThat(follower.renewOnce()).as("the follower takes the expired lease at once").isTrue();
                assertThat(follower.token()).isEqualTo(token + 1);
                assertThat(lease(a).holder()).isEqualTo("replica-b");
                assertThat(longWrite.isDone()).isFalse();

                release.countDown();
                longWrite.get(30, TimeUnit.SECONDS);
            } finally {
                release.countDown();
                pool.shutdownNow();
            }
            assertThat(leader.renewOnce()).as("the old leader finds the lease taken").isFalse();
            assertThat(lease(b).token()).isEqualTo(token + 1);
        }
    }

    static LeaderLease.Lease lease(Database db) throws FleetException {
        return db.read(tx -> LeaderLease.current(tx.connection()).orElseThrow());
    }

    static long writeOrderHeld(Database db) throws FleetException {
        return db.read(tx -> {
            try (var st = tx.connection().createStatement();
                 var rs = st.executeQuery("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND mode = 'ExclusiveLock'")) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }
}
