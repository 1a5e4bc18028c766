package rsuota.fleet.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.domain.AuditEntry;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.StoreSpec;
import rsuota.fleet.testing.StoreEngine;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import rsuota.fixtures.time.SettableClock;

@ParameterizedClass(name = "{0}")
@EnumSource(StoreEngine.class)
class AuditChainTest {
    @TempDir
    Path dir;
    final SettableClock clock = new SettableClock(Instant.parse("2026-03-01T10:00:00.123Z"));
    final Principal alice = new Principal("alice", Role.RELEASE_MANAGER);
    @Parameter
    StoreEngine engine;
    StoreSpec spec;
    Database db;
    AuditLog log;

    @BeforeEach
    void fiveEntries() throws Exception {
        spec = engine.fresh(dir, "audit_chain");
        db = spec.open(clock);
        log = new AuditLog(clock);
        for (int i = 1; i <= 5; i++) {
            int n = i;
            db.write(tx -> log.append(tx, alice, "cohort.members.add", "cohort:" + n, "wave " + n,
                    Map.of("added", java.util.List.of("rsu-" + n), "z", Map.of("b", 2, "a", 1))));
            clock.advance(Duration.ofSeconds(7));
        }
    }

    @org.junit.jupiter.api.AfterEach
    void close() {
        db.close();
    }

    @Test
    void intactChainVerifies() throws Exception {
        AuditVerification v = db.read(AuditVerifier::verify);
        assertThat(v.ok()).isTrue();
        assertThat(v.entries()).isEqualTo(5);
        assertThat(v.firstBroken()).isNull();
        AuditEntry last = db.read(tx -> tx.audit().last()).orElseThrow();
        assertThat(v.head()).isEqualTo(last.hash());
        String prevOfLast = db.read(tx -> tx.audit().page(3, 1)).get(0).hash();
        assertThat(last.prevHash()).isEqualTo(prevOfLast);
    }

    @Test
    void firstEntryLinksToGenesisAndHashIsReproducibleFromItsColumns() throws Exception {
        AuditEntry first = db.read(tx -> tx.audit().page(0, 1)).get(0);
        assertThat(first.prevHash()).isEqualTo(AuditChain.GENESIS);
        assertThat(first.hash()).isEqualTo(AuditChain.hash(AuditChain.GENESIS, first));
        assertThat(AuditChain.canonicalJson(first)).isEqualTo("{\"action\":\"cohort.members.add\",\"actor\":\"alice\","
                + "\"at\":\"2026-03-01T10:00:00.123Z\",\"detail\":{\"added\":[\"rsu-1\"],\"z\":{\"a\":1,\"b\":2}},"
                + "\"reason\":\"wave 1\",\"role\":\"release-manager\",\"seq\":1,\"target\":\"cohort:1\"}");
    }

    @Test
    void anUpdatedRowIsNamedAsTheFirstBrokenEntry() throws Exception {
        sql("UPDATE audit SET reason = 'nothing to see' WHERE seq = 3");
        AuditVerification v = db.read(AuditVerifier::verify);
        assertThat(v.ok()).isFalse();
        assertThat(v.firstBroken()).isEqualTo(3L);
        assertThat(v.entries()).isEqualTo(2);
        assertThat(v.problem()).contains("entry 3").contains("was altered");
    }

    @Test
    void aRewrittenHashBreaksTheNextLink() throws Exception {
        // Someone who recomputes entry 3's hash after editing it still breaks entry 4's prev_hash link.
        AuditEntry e3 = db.read(tx -> tx.audit().page(2, 1)).get(0);
        AuditEntry forged = new AuditEntry(3, e3.at(), "mallory", e3.role(), e3.action(), e3.target(), e3.reason(), e3.detail(), e3.prevHash(), null);
        sql("UPDATE audit SET actor = 'mallory', hash = '" + AuditChain.hash(e3.prevHash(), forged) + "' WHERE seq = 3");
        AuditVerification v = db.read(AuditVerifier::verify);
        assertThat(v.firstBroken()).isEqualTo(4L);
        assertThat(v.problem()).contains("previous hash");
    }

    @Test
    void aDeletedRowIsNamedByTheGap() throws Exception {
        sql("DELETE FROM audit WHERE seq = 2");
        AuditVerification v = db.read(AuditVerifier::verify);
        assertThat(v.firstBroken()).isEqualTo(3L);
        assertThat(v.problem()).contains("entries 2..2 are missing");
    }

    @Test
    void appendingContinuesTheChainAfterReopen() throws Exception {
        db.close();
        db = spec.open(clock);
        db.write(tx -> log.append(tx, alice, "release.create", "release:9.9.9", null, Map.of()));
        AuditVerification v = db.read(AuditVerifier::verify);
        assertThat(v.ok()).isTrue();
        assertThat(v.entries()).isEqualTo(6);
    }

    private void sql(String s) throws Exception {
        db.write(tx -> {
            try (Statement st = tx.connection().createStatement()) {
                st.execute(s);
            }
            return null;
        });
    }
}
