package rsuota.fleet.lead;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import rsuota.fleet.domain.DeviceRecord;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.Table;
import rsuota.fleet.testing.StoreEngine;
import rsuota.fixtures.time.SettableClock;

/** Leadership through the lease row: one leader, takeover after expiry with a higher fencing token, a deposed leader's late write refused. */
@ParameterizedClass(name = "{0}")
@EnumSource(StoreEngine.class)
class LeaderLeaseTest {
    static final Duration TTL = Duration.ofSeconds(10);
    @TempDir
    Path dir;
    @Parameter
    StoreEngine engine;
    final SettableClock clock = new SettableClock(Instant.parse("2026-03-01T10:00:00Z"));
    /** The first token on a store is its creation time in ms: a rebuilt store starts above the tokens devices saw. */
    final long first = Instant.parse("2026-03-01T10:00:00Z").toEpochMilli();
    Database db;

    @BeforeEach
    void open() throws Exception {
        db = engine.open(dir, "lease", clock);
    }

    @AfterEach
    void close() {
        db.close();
    }

    @Test
    void oneReplicaLeadsTheOtherFollowsAndRenewalsKeepTheToken() {
        Leadership.Lease a = Leadership.lease(db, "replica-a", clock, TTL);
        Leadership.Lease b = Leadership.lease(db, "replica-b", clock, TTL);
        assertThat(a.renewOnce()).isTrue();
        assertThat(b.renewOnce()).isFalse();
        assertThat(a.role()).isEqualTo("leader");
        assertThat(b.role()).isEqualTo("follower");
        assertThat(a.token()).isEqualTo(first);
        assertThat(b.token()).isZero();
        for (int i = 0; i < 5; i++) {
            clock.advance(Duration.ofSeconds(2));
            assertThat(a.renewOnce()).isTrue();
            assertThat(b.renewOnce()).as("the lease never lapses while renewed").isFalse();
        }
        assertThat(a.token()).isEqualTo(first);
        assertThat(b.leaseAge()).isEqualTo(Duration.ZERO);
    }

    @Test
    void aStaleLeaderIsDeposedByTheFencingTokenAndItsLateWriteChangesNothing() throws Exception {
        Leadership.Lease a = Leadership.lease(db, "replica-a", clock, TTL);
        Leadership.Lease b = Leadership.lease(db, "replica-b", clock, TTL);
        assertThat(a.renewOnce()).isTrue();
        FencedDatabase fencedA = new FencedDatabase(db, a);
        write(fencedA, "written-by-a");

        // Near the end of an unrenewed lease A stops publishing (a margin before anyone can take over).
        assertThat(a.leadsFor(TTL.dividedBy(5))).isTrue();
        clock.advance(TTL.minus(TTL.dividedBy(5)));
        assertThat(a.isLeader()).isTrue();
        assertThat(a.leadsFor(TTL.dividedBy(5))).as("within the margin of the lease's end").isFalse();
        // A stalls (GC pause, partition) past its lease; B takes over with the next token.
        clock.advance(TTL.dividedBy(5).plusMillis(1));
        assertThat(b.renewOnce()).isTrue();
        assertThat(b.token()).isEqualTo(first + 1);
        long devicesBefore = db.read(tx -> tx.count(Table.DEVICES));

        // A wakes up and writes as if it still led: split brain, refused by the token inside the transaction.
        assertThatThrownBy(() -> write(fencedA, "late-write-by-a"))
                .isInstanceOfSatisfying(FleetException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.NOT_LEADER);
                    assertThat(e.getMessage()).contains("fencing token " + first).contains("held by replica-b with token " + (first + 1));
                });
        assertThat(db.<Long>read(tx -> tx.count(Table.DEVICES))).isEqualTo(devicesBefore);
        assertThat(a.renewOnce()).as("A learns it is a follower").isFalse();
        write(new FencedDatabase(db, b), "written-by-b");
        assertThat(db.<Long>read(tx -> tx.count(Table.DEVICES))).isEqualTo(devicesBefore + 1);
    }

    @Test
    void aCleanShutdownHandsTheLeaseOverAtOnce() {
        Leadership.Lease a = Leadership.lease(db, "replica-a", clock, TTL);
        Leadership.Lease b = Leadership.lease(db, "replica-b", clock, TTL);
        assertThat(a.renewOnce()).isTrue();
        assertThat(b.renewOnce()).isFalse();
        a.close();
        assertThat(b.renewOnce()).as("no wait for the lease to expire").isTrue();
        assertThat(b.token()).isEqualTo(first + 1);
    }

    @Test
    void theSoleControllerAlwaysLeadsWithoutALease() throws Exception {
        Leadership sole = Leadership.sole();
        assertThat(sole.isLeader()).isTrue();
        assertThat(sole.leaseAge()).isNull();
        write(new FencedDatabase(db, sole), "sole");
        assertThat(db.<Long>read(tx -> tx.count(Table.DEVICES))).isEqualTo(1);
    }

    private void write(Database fenced, String device) throws FleetException {
        fenced.write(tx -> {
            tx.devices().upsert(new DeviceRecord(device, "rsu-a1", null, null, null, List.of()), null, clock.instant());
            return null;
        });
    }
}
