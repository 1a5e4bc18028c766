package rsuota.fleet.lead;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.app.Controller;
import rsuota.fleet.app.DataDir;
import rsuota.fleet.cli.FleetControllerMain;
import rsuota.fleet.cli.Fleetctl;
import rsuota.fleet.cohort.Cohorts;
import rsuota.fleet.domain.CohortKind;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.link.TelemetryIngest;
import rsuota.fleet.policy.PauseRule;
import rsuota.fleet.policy.RuleSet;
import rsuota.fleet.release.ReleaseCatalog;
import rsuota.fleet.rollout.Approval;
import rsuota.fleet.rollout.Rollouts;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.PostgresLocation;
import rsuota.fleet.store.StoreSpec;
import rsuota.fleet.testing.Bundles;
import rsuota.fleet.testing.ContractCheck;
import rsuota.fleet.testing.ContractProxy;
import rsuota.fleet.testing.DeviceMessages;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.mqtt.MosquittoBroker;
import rsuota.fixtures.pg.PostgresServer;
import rsuota.fixtures.pki.TestPki;
import rsuota.wire.Topics;

/**
 * Two controller replicas (real processes) on one PostgreSQL and one Mosquitto with a shared
 * subscription. The leader dispatches, is killed with SIGKILL, the follower takes over within 15 s,
 * dispatches what comes next, and nothing is dispatched twice, counted twice or lost; the audit chain verifies.
 */
class FailoverTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> PILOT = List.of("rsu-p1", "rsu-p2", "rsu-p3");
    static final List<String> WAVE = List.of("rsu-w1", "rsu-w2", "rsu-w3");
    @TempDir
    Path dir;
    final HttpClient http = HttpClient.newHttpClient();

    @Test
    void theLeaderIsKilledAndTheFollowerTakesOverWithin15sDispatchingNothingTwice() throws Exception {
        TestPki pki = new TestPki();
        Site site = site("failover", pki);
        String url = site.url();
        Path pw = site.pw();
        Path keyring = site.keyring();
        StoreSpec.Postgres spec = site.spec();
        Path dirA = site.dirA();
        Path dirB = site.dirB();
        String admin = site.admin();

        // Releases, devices, cohorts and two rollouts, set up in-process on the shared store (then closed: it gives the lease up).
        long pilotRollout;
        long waveRollout;
        Controller setup = Controller.open(new Controller.Config(new DataDir(dirA, spec), null, "127.0.0.1", 0), Clock.systemUTC());
        try {
            Principal rm = new Principal("rm", Role.ADMIN);
            releasesAndUnits(setup, rm, pki, dirA, dirB);
            long pilot = setup.cohorts().create(rm, new Cohorts.NewCohort("2.4.0", "pilot", CohortKind.PILOT, null, null, PILOT, null)).cohort().id();
            long wave = setup.cohorts().create(rm, new Cohorts.NewCohort("2.5.0", "wave", CohortKind.PILOT, null, null, WAVE, null)).cohort().id();
            pilotRollout = setup.rollouts().create(rm, new Rollouts.NewRollout("2.4.0", List.of(new Rollouts.NewPhase(pilot, null, null,
                    Duration.ofHours(1), Approval.MANUAL, null)), null, null, null, null)).id();
            waveRollout = setup.rollouts().create(rm, new Rollouts.NewRollout("2.5.0", List.of(new Rollouts.NewPhase(wave, null, null,
                    Duration.ofHours(1), Approval.MANUAL, null)), null, null, null, null)).id();
            setup.rollouts().start(rm, pilotRollout, "before the failover");
        } finally {
            setup.close();
        }

        try (MosquittoBroker broker = MosquittoBroker.plain()) {
            Map<String, List<Long>> desiredRevs = new ConcurrentHashMap<>();
            Map<String, List<Long>> tokens = new ConcurrentHashMap<>();
            MqttAsyncClient devices = deviceSide(broker.uri(), desiredRevs, tokens);
            Process a = null;
            Process b = null;
            try {
                int portA = freePort();
                int portB = freePort();
                a = replica(dirA, url, pw, keyring, portA, broker.uri(), "a");
                URI uriA = URI.create("http://127.0.0.1:" + portA);
                URI uriB = URI.create("http://127.0.0.1:" + portB);
                JsonNode readyA = awaitRole(uriA, "leader", Duration.ofSeconds(60));
                assertThat(readyA.get("fencingToken").asLong()).isPositive();
                b = replica(dirB, url, pw, keyring, portB, broker.uri(), "b");
                awaitRole(uriB, "follower", Duration.ofSeconds(60));

                // The leader dispatches the pilot: one desired state per unit, confirmed by the broker.
                await().atMost(Duration.ofSeconds(30)).until(() -> PILOT.stream().allMatch(d -> desiredRevs.getOrDefault(d, List.of()).size() == 1));
                try (Database db = spec.open(Clock.systemUTC())) {
                    await().atMost(Duration.ofSeconds(30)).until(() -> db.read(tx -> tx.desired().pending(100)).isEmpty());
                }

                // Telemetry through the shared subscription: each report is taken in by exactly one replica.
                int reports = 20;
                long seeded; // the one report each unit sent at setup
                try (Database db = spec.open(Clock.systemUTC())) {
                    seeded = kpiCount(db, "rsu-p1");
                    assertThat(kpiCount(db, "rsu-p2")).isEqualTo(seeded);
                    for (int i = 0; i < reports; i++) publishState(devices, "rsu-p1", i % 2 == 0 ? 0.999 : 0.998);
                    await().atMost(Duration.ofSeconds(30)).until(() -> kpiCount(db, "rsu-p1") >= seeded + reports);
                    assertThat(kpiCount(db, "rsu-p1")).as("each report counted once across two replicas").isEqualTo(seeded + reports);
                }

                long killedAt = System.nanoTime();
                a.destroyForcibly(); // SIGKILL: no lease release, no clean close
                assertThat(a.waitFor(30, TimeUnit.SECONDS)).isTrue();
                JsonNode readyB = awaitRole(uriB, "leader", Duration.ofSeconds(30));
                Duration takeover = Duration.ofNanos(System.nanoTime() - killedAt);
                assertThat(takeover).as("takeover after kill -9 of the leader").isLessThanOrEqualTo(Duration.ofSeconds(15));
                assertThat(readyB.get("fencingToken").asLong()).isGreaterThan(readyA.get("fencingToken").asLong());
                System.out.println("failover: follower led " + takeover.toMillis() + " ms after the leader was killed");

                // The new leader dispatches the next rollout, started through its API.
                try (ContractProxy proxy = new ContractProxy(uriB)) {
                    StringWriter out = new StringWriter();
                    StringWriter err = new StringWriter();
                    int code = Fleetctl.execute(new String[] {"--url", proxy.uri().toString(), "--token", admin, "rollout", "start",
                            Long.toString(waveRollout), "--reason", "after the failover"}, new PrintWriter(out), new PrintWriter(err));
                    assertThat(code).as(err.toString()).isZero();
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> WAVE.stream().allMatch(d -> desiredRevs.getOrDefault(d, List.of()).size() == 1));
                for (int i = 0; i < reports; i++) publishState(devices, "rsu-p2", 0.999);
                // The killed replica's persistent session keeps its share of the shared subscription at the broker
                // until it comes back (as systemd restarts it); it returns as a follower and takes that share in.
                a = replica(dirA, url, pw, keyring, portA, broker.uri(), "a-restarted");
                assertThat(awaitRole(uriA, "follower", Duration.ofSeconds(60)).get("role").asText()).isEqualTo("follower");
                try (Database db = spec.open(Clock.systemUTC())) {
                    await().atMost(Duration.ofSeconds(30)).until(() -> kpiCount(db, "rsu-p2") >= seeded + reports);
                    assertThat(kpiCount(db, "rsu-p2")).isEqualTo(seeded + reports);
                    assertThat(kpiCount(db, "rsu-p1")).as("nothing lost or recounted across the failover").isEqualTo(seeded + reports);
                    for (String d : concat(PILOT, WAVE)) {
                        assertThat(db.read(tx -> tx.desired().find(d)).orElseThrow().rev()).as(d + " desired revision").isEqualTo(1);
                    }
                    var verification = db.read(rsuota.fleet.audit.AuditVerifier::verify);
                    assertThat(verification.ok()).as(verification.problem()).isTrue();
                    assertThat(db.read(tx -> tx.audit().page(0, 1000)).stream().filter(e -> e.action().equals("rollout.start")).count())
                            .isEqualTo(2);
                }
                // Every unit got its desired state once: the new leader re-sent nothing the old one had dispatched.
                for (String d : concat(PILOT, WAVE)) assertThat(desiredRevs.get(d)).as(d).containsExactly(1L);
                // Each order carries the fencing token of the leader that wrote it, so a unit refuses the old one's late publish.
                for (String d : PILOT) assertThat(tokens.get(d)).as(d).containsExactly(readyA.get("fencingToken").asLong());
                for (String d : WAVE) assertThat(tokens.get(d)).as(d).containsExactly(readyB.get("fencingToken").asLong());
                HttpResponse<String> metrics = get(uriB.resolve("/metrics"), admin);
                assertThat(metrics.body()).contains("rsuota_controller_leader 1").contains("rsuota_controller_lease_age_seconds ");
            } finally {
                stop(devices, a, b);
            }
        }
    }

    /**
     * The failover: at kill time the pilot's rollback is in flight (ordered and sent, no unit has
     * confirmed it) and the wave's pause rule is about to fire (its breach timer runs, the sustained time not
     * yet over). The follower takes over, fires the pause once, re-sends nothing, and every KPI report
     * published is counted once.
     */
    @Test
    void killedWithARollbackInFlightAndAPauseAboutToFireTheNewLeaderPausesOnceAndResendsNothing() throws Exception {
        TestPki pki = new TestPki();
        Site site = site("failover_pause", pki);
        String url = site.url();
        Path pw = site.pw();
        Path keyring = site.keyring();
        StoreSpec.Postgres spec = site.spec();
        Path dirA = site.dirA();
        Path dirB = site.dirB();
        String admin = site.admin();
        Duration sustained = Duration.ofSeconds(25);

        long rollbackRollout;
        long pauseRollout;
        Controller setup = Controller.open(new Controller.Config(new DataDir(dirA, spec), null, "127.0.0.1", 0), Clock.systemUTC());
        try {
            Principal rm = new Principal("rm", Role.ADMIN);
            releasesAndUnits(setup, rm, pki, dirA, dirB);
            long pilot = setup.cohorts().create(rm, new Cohorts.NewCohort("2.5.0", "pilot", CohortKind.PILOT, null, null, PILOT, null)).cohort().id();
            long wave = setup.cohorts().create(rm, new Cohorts.NewCohort("2.4.0", "wave", CohortKind.PILOT, null, null, WAVE, null)).cohort().id();
            rollbackRollout = setup.rollouts().create(rm, new Rollouts.NewRollout("2.5.0", List.of(new Rollouts.NewPhase(pilot, null, null,
                    Duration.ofHours(1), Approval.MANUAL, null)), null, null, null, null)).id();
            RuleSet rules = new RuleSet(1, Duration.ofMinutes(5), List.of(new PauseRule.AvailabilityBelow(0.995, sustained, 1)));
            pauseRollout = setup.rollouts().create(rm, new Rollouts.NewRollout("2.4.0", List.of(new Rollouts.NewPhase(wave, null, null,
                    Duration.ofHours(1), Approval.MANUAL, null)), null, rules, null, null)).id();
            setup.rollouts().start(rm, rollbackRollout, "before the failover");
            setup.rollouts().start(rm, pauseRollout, "before the failover");
        } finally {
            setup.close();
        }

        try (MosquittoBroker broker = MosquittoBroker.plain(); Database db = spec.open(Clock.systemUTC())) {
            Map<String, List<Long>> desiredRevs = new ConcurrentHashMap<>();
            Map<String, List<Long>> tokens = new ConcurrentHashMap<>();
            MqttAsyncClient devices = deviceSide(broker.uri(), desiredRevs, tokens);
            Process a = null;
            Process b = null;
            try {
                int portA = freePort();
                int portB = freePort();
                a = replica(dirA, url, pw, keyring, portA, broker.uri(), "a");
                URI uriA = URI.create("http://127.0.0.1:" + portA);
                URI uriB = URI.create("http://127.0.0.1:" + portB);
                long tokenA = awaitRole(uriA, "leader", Duration.ofSeconds(60)).get("fencingToken").asLong();
                b = replica(dirB, url, pw, keyring, portB, broker.uri(), "b");
                awaitRole(uriB, "follower", Duration.ofSeconds(60));
                await().atMost(Duration.ofSeconds(30)).until(() -> concat(PILOT, WAVE).stream()
                        .allMatch(d -> desiredRevs.getOrDefault(d, List.of()).size() == 1));
                long seeded = kpiCount(db, WAVE.get(0));

                // The rollback of the pilot, ordered through the leader: sent, and no unit confirms it.
                try (ContractProxy proxy = new ContractProxy(uriA)) {
                    StringWriter out = new StringWriter();
                    StringWriter err = new StringWriter();
                    int code = Fleetctl.execute(new String[] {"--url", proxy.uri().toString(), "--token", admin, "rollout", "rollback",
                            Long.toString(rollbackRollout), "--reason", "in flight at the failover"}, new PrintWriter(out), new PrintWriter(err));
                    assertThat(code).as(err.toString()).isZero();
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> PILOT.stream().allMatch(d -> desiredRevs.getOrDefault(d, List.of()).size() == 2));
                await().atMost(Duration.ofSeconds(30)).until(() -> db.read(tx -> tx.desired().pending(100)).isEmpty());

                // The wave reports bad availability until the pause: the rule's breach timer starts on the leader.
                int perUnit = 0;
                for (String d : WAVE) publishState(devices, d, 0.5);
                perUnit++;
                await().atMost(Duration.ofSeconds(30)).until(() -> breachSince(db, pauseRollout) != null);
                assertThat(pauses(db, pauseRollout)).as("the rule has not fired before the kill").isZero();

                long killedAt = System.nanoTime();
                a.destroyForcibly();
                assertThat(a.waitFor(30, TimeUnit.SECONDS)).isTrue();
                // Reports go on through the takeover (the killed replica's share waits at the broker).
                long until = System.nanoTime() + sustained.plusSeconds(40).toNanos();
                while (pauses(db, pauseRollout) == 0 && System.nanoTime() < until) {
                    for (String d : WAVE) publishState(devices, d, 0.5);
                    perUnit++;
                    await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(1)).until(() -> true);
                }
                JsonNode readyB = awaitRole(uriB, "leader", Duration.ofSeconds(5));
                System.out.println("failover with a pause due: the new leader (fencing token " + readyB.get("fencingToken")
                        + ") recorded the pause within " + (System.nanoTime() - killedAt) / 1_000_000 + " ms of the kill");
                assertThat(pauses(db, pauseRollout)).as("the pause is recorded by the new leader").isEqualTo(1);

                a = replica(dirA, url, pw, keyring, portA, broker.uri(), "a-restarted");
                awaitRole(uriA, "follower", Duration.ofSeconds(60));
                long published = perUnit;
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    for (String d : WAVE) if (kpiCount(db, d) < seeded + published) return false;
                    return true;
                });
                for (String d : WAVE) assertThat(kpiCount(db, d)).as(d + ": every report counted once").isEqualTo(seeded + published);
                // A few more leader ticks: still one pause, nothing re-sent.
                long ticksFrom = System.nanoTime();
                await().pollDelay(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3)).until(() -> System.nanoTime() - ticksFrom > 2_000_000_000L);
                assertThat(pauses(db, pauseRollout)).isEqualTo(1);
                assertThat(db.read(tx -> tx.audit().page(0, 10_000)).stream().filter(e -> e.action().equals("rollout.pause")).count())
                        .as("one pause in the audit log").isEqualTo(1);
                for (String d : PILOT) assertThat(desiredRevs.get(d)).as(d + ": dispatch, then the rollback, once each").containsExactly(1L, 2L);
                // The new leader's pause holds the wave's units (not yet activating): the hold is their second rev, sent once.
                for (String d : WAVE) assertThat(desiredRevs.get(d)).as(d + ": dispatch, then the pause's hold, once each").containsExactly(1L, 2L);
                // The rollback was written under A's lease, the hold under B's: a later token a unit that saw it holds to.
                long tokenB = readyB.get("fencingToken").asLong();
                assertThat(tokenB).isGreaterThan(tokenA);
                for (String d : PILOT) assertThat(tokens.get(d)).as(d).containsExactly(tokenA, tokenA);
                for (String d : WAVE) assertThat(tokens.get(d)).as(d).containsExactly(tokenA, tokenB);
                var verification = db.read(rsuota.fleet.audit.AuditVerifier::verify);
                assertThat(verification.ok()).as(verification.problem()).isTrue();
            } finally {
                stop(devices, a, b);
            }
        }
    }

    /** The shared store initialised for two replicas' data directories, and the admin token {@code init} printed. */
    private record Site(String url, Path pw, Path keyring, StoreSpec.Postgres spec, Path dirA, Path dirB, String admin) {}

    private Site site(String database, TestPki pki) throws Exception {
        PostgresServer pg = PostgresServer.shared();
        String url = pg.url(pg.createDatabase(database));
        Path pw = Files.writeString(dir.resolve("pg-password"), pg.password() + "\n");
        Path keyring = Files.writeString(dir.resolve("keyring.pem"), RunningController.pem(pki));
        Path dirA = dir.resolve("replica-a");
        StringWriter initOut = new StringWriter();
        StringWriter initErr = new StringWriter();
        assertThat(FleetControllerMain.execute(new String[] {"init", "--data-dir", dirA.toString(), "--db", url, "--db-password-file", pw.toString(),
                "--keyring", keyring.toString()}, new PrintWriter(initOut), new PrintWriter(initErr))).as(initErr.toString()).isZero();
        return new Site(url, pw, keyring, new StoreSpec.Postgres(PostgresLocation.parse(url), pg.password()), dirA, dir.resolve("replica-b"),
                initOut.toString().strip());
    }

    /** Releases 2.4.0 and 2.5.0 (previous stable 2.4.0; bundles in both replicas' artifacts) and the six units, registered. */
    private void releasesAndUnits(Controller setup, Principal rm, TestPki pki, Path dirA, Path dirB) throws Exception {
        for (String v : List.of("2.4.0", "2.5.0")) {
            String bundle = Bundles.publish(Bundles.build(pki, dir.resolve("work"), v, "rsu-a1"), dirA.resolve("artifacts"));
            Files.createDirectories(dirB.resolve("artifacts"));
            Files.copy(dirA.resolve("artifacts").resolve(bundle), dirB.resolve("artifacts").resolve(bundle));
            setup.releases().create(rm, new ReleaseCatalog.NewRelease(bundle, null, v.equals("2.5.0") ? "2.4.0" : null, null, null));
        }
        for (String d : concat(PILOT, WAVE)) {
            setup.ingest().accept(List.of(DeviceMessages.state(d, "rsu-a1", "i-5", "idle", null, 0, DeviceMessages.GOOD)));
        }
    }

    private static void stop(MqttAsyncClient devices, Process... replicas) throws Exception {
        for (Process p : replicas) {
            if (p != null) {
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
            }
        }
        devices.disconnect().waitForCompletion(5000);
        devices.close();
    }

    private static Long breachSince(Database db, long rollout) throws Exception {
        return db.read(tx -> {
            try (var ps = tx.connection().prepareStatement("SELECT MIN(breach_since) FROM rule_timers WHERE rollout_id = ?")) {
                ps.setLong(1, rollout);
                try (var rs = ps.executeQuery()) {
                    rs.next();
                    long v = rs.getLong(1);
                    return rs.wasNull() ? null : v;
                }
            }
        });
    }

    private static long pauses(Database db, long rollout) throws Exception {
        return db.read(tx -> {
            try (var ps = tx.connection().prepareStatement("SELECT COUNT(*) FROM pause_events WHERE rollout_id = ?")) {
                ps.setLong(1, rollout);
                try (var rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    private Process replica(Path data, String url, Path pw, Path keyring, int port, String broker, String name) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), FleetControllerMain.class.getName(),
                "run", "--data-dir", data.toString(), "--db", url, "--db-password-file", pw.toString(), "--keyring", keyring.toString(),
                "--port", Integer.toString(port), "--broker", broker, "--shared-group", "controllers", "--tick", "200ms"));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("replica-" + name + ".log").toFile()).start();
    }

    private JsonNode awaitRole(URI uri, String role, Duration within) {
        JsonNode[] last = new JsonNode[1];
        await().atMost(within).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> {
            HttpResponse<String> r = get(uri.resolve("/readyz"), null);
            last[0] = JSON.readTree(r.body());
            return r.statusCode() == 200 && role.equals(last[0].get("role").asText());
        });
        return last[0];
    }

    private HttpResponse<String> get(URI uri, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10));
        if (token != null) b.header("Authorization", "Bearer " + token);
        HttpRequest req = b.build();
        HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
        ContractCheck.check("GET", uri, req.headers().map(), null, r.statusCode(), r.headers().map(), r.body());
        return r;
    }

    private static long kpiCount(Database db, String device) throws Exception {
        return db.read(tx -> {
            try (var ps = tx.connection().prepareStatement("SELECT COALESCE(SUM(n), 0) FROM kpi_samples WHERE device_id = ?")) {
                ps.setString(1, device);
                try (var rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    /** Records each unit's desired revs and the fencing token each carried (0: none). */
    private static MqttAsyncClient deviceSide(String uri, Map<String, List<Long>> desiredRevs, Map<String, List<Long>> tokens) throws Exception {
        MqttAsyncClient c = new MqttAsyncClient(uri, "fleet-sim", new MemoryPersistence());
        c.setCallback(new org.eclipse.paho.mqttv5.client.MqttCallback() {
            public void disconnected(org.eclipse.paho.mqttv5.client.MqttDisconnectResponse r) { }
            public void mqttErrorOccurred(org.eclipse.paho.mqttv5.common.MqttException e) { }
            public void messageArrived(String topic, MqttMessage m) throws Exception {
                JsonNode n = JSON.readTree(new String(m.getPayload(), StandardCharsets.UTF_8));
                String device = topic.split("/")[3];
                tokens.computeIfAbsent(device, k -> new CopyOnWriteArrayList<>()).add(n.path("fencingToken").asLong(0));
                desiredRevs.computeIfAbsent(device, k -> new CopyOnWriteArrayList<>()).add(n.get("rev").asLong());
            }
            public void deliveryComplete(org.eclipse.paho.mqttv5.client.IMqttToken t) { }
            public void connectComplete(boolean reconnect, String u) { }
            public void authPacketArrived(int code, org.eclipse.paho.mqttv5.common.packet.MqttProperties p) { }
        });
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        c.connect(o).waitForCompletion(10_000);
        for (String d : concat(PILOT, WAVE)) c.subscribe(new MqttSubscription(Topics.desired(d), 1)).waitForCompletion(10_000);
        return c;
    }

    private static void publishState(MqttAsyncClient c, String device, double availability) throws Exception {
        TelemetryIngest.Message m = DeviceMessages.state(device, "rsu-a1", "i-5", "idle", null, 0,
                new rsuota.wire.MqttState.Kpis(availability, 300, 2000, 0.0001));
        MqttMessage msg = new MqttMessage(m.payload());
        msg.setQos(1);
        c.publish(m.topic(), msg).waitForCompletion(10_000);
    }

    private static List<String> concat(List<String> x, List<String> y) {
        List<String> all = new ArrayList<>(x);
        all.addAll(y);
        return all;
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
