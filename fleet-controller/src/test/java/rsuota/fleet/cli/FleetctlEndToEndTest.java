package rsuota.fleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fleet.app.Controller;
import rsuota.fleet.app.DataDir;
import rsuota.fleet.testing.Bundles;
import rsuota.fleet.testing.ContractProxy;
import rsuota.fleet.testing.RunningController;
import rsuota.fixtures.pki.TestPki;

/**
 * The operator's path end to end: fleet-controller init, a running controller on a loopback port,
 * and fleetctl verbs against it, including the exit codes scripts rely on.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FleetctlEndToEndTest {
    static TestPki pki;
    @TempDir
    static Path dir;
    static Path data;
    static String admin;
    static String operator;
    static Controller controller;
    static String url;
    static ContractProxy proxy;

    record Run(int code, String out, String err) {
        JsonNode json() throws Exception {
            return ApiClient.JSON.readTree(out);
        }
    }

    static Run controllerMain(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = FleetControllerMain.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    static Run fleetctl(String token, String... args) {
        List<String> all = new ArrayList<>(List.of("--url", url));
        if (token != null) all.addAll(List.of("--token", token));
        all.addAll(List.of(args));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Fleetctl.execute(all.toArray(String[]::new), new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    @BeforeAll
    static void initAndRun() throws Exception {
        pki = new TestPki();
        data = dir.resolve("data");
        Path keyring = dir.resolve("root.pem");
        Files.writeString(keyring, RunningController.pem(pki));

        Run notYet = controllerMain("run", "--data-dir", data.toString(), "--port", "0");
        assertThat(notYet.code()).isEqualTo(ExitCodes.STARTUP);
        assertThat(notYet.err()).contains("holds no controller store").contains("fleet-controller init");

        Run init = controllerMain("init", "--data-dir", data.toString(), "--keyring", keyring.toString());
        assertThat(init.code()).as(init.err()).isZero();
        admin = init.out().strip();
        assertThat(admin).startsWith("rsuota_").doesNotContain("\n");
        assertThat(Files.readString(data.resolve("keyring.pem"))).isEqualTo(Files.readString(keyring));

        controller = Controller.open(new Controller.Config(new DataDir(data), null, "127.0.0.1", 0), Clock.systemUTC()).serve();
        // fleetctl talks to the controller through the contract check: each exchange must match openapi.yaml.
        proxy = new ContractProxy(controller.uri());
        url = proxy.uri().toString();
    }

    @AfterAll
    static void stop() {
        if (proxy != null) proxy.close();
        if (controller != null) controller.close();
    }

    @Test
    @Order(1)
    void initRefusesAnInitialisedDirectory() {
        Run again = controllerMain("init", "--data-dir", data.toString());
        assertThat(again.code()).isEqualTo(ExitCodes.STARTUP);
        assertThat(again.out()).isEmpty();
        assertThat(again.err().strip()).contains("refusing to initialise it again").doesNotContain("\n");
    }

    @Test
    @Order(1)
    void runRefusesHalfASingleSignOnOrBrokerTlsSetupNamingWhatIsMissing() {
        Run noAudience = controllerMain("run", "--data-dir", data.toString(), "--port", "0", "--oidc-issuer", "http://127.0.0.1:9/");
        assertThat(noAudience.code()).isEqualTo(ExitCodes.STARTUP);
        assertThat(noAudience.err()).contains("needs --oidc-issuer, --oidc-audience and at least one --oidc-role");
        Run badRole = controllerMain("run", "--data-dir", data.toString(), "--port", "0", "--oidc-issuer", "http://127.0.0.1:9/",
                "--oidc-audience", "x", "--oidc-role", "ops=superuser");
        assertThat(badRole.code()).isEqualTo(ExitCodes.STARTUP);
        assertThat(badRole.err()).contains("--oidc-role ops");
        Run noCa = controllerMain("run", "--data-dir", data.toString(), "--port", "0", "--embedded-broker", "--mqtt-tls-port", "0");
        assertThat(noCa.code()).isEqualTo(ExitCodes.STARTUP);
        assertThat(noCa.err()).contains("--mqtt-tls-port").contains("device-ca init");
        Run plainOnNetwork = controllerMain("run", "--data-dir", data.toString(), "--port", "0", "--broker", "tcp://127.0.0.1:1",
                "--broker-cert", "x.pem");
        assertThat(plainOnNetwork.code()).isEqualTo(ExitCodes.STARTUP);
        assertThat(plainOnNetwork.err()).contains("need a TLS broker URL");
    }

    @Test
    @Order(2)
    void tokensAndTheExitCodesOf401And403() {
        Run created = fleetctl(admin, "token", "create", "--role", "operator", "--label", "night-ops", "--reason", "on call");
        assertThat(created.code()).as(created.err()).isZero();
        operator = created.out().lines().findFirst().orElseThrow();
        assertThat(operator).startsWith("rsuota_");

        Run forbidden = fleetctl(operator, "token", "create", "--role", "admin", "--label", "escalate");
        assertThat(forbidden.code()).isEqualTo(ExitCodes.FORBIDDEN);
        assertThat(forbidden.err().strip()).startsWith("fleetctl: 403 FORBIDDEN:").contains("needs role admin").doesNotContain("\n");

        Run badToken = fleetctl("rsuota_not-a-real-token", "device", "list");
        assertThat(badToken.code()).isEqualTo(ExitCodes.UNAUTHENTICATED);
        assertThat(badToken.err()).startsWith("fleetctl: 401 UNAUTHENTICATED:");

        Run noToken = fleetctl(null, "release", "list");
        assertThat(noToken.code()).isEqualTo(ExitCodes.UNAUTHENTICATED);
    }

    @Test
    @Order(2)
    void tokenListRotateRevokeAndTheBreakGlassAdminToken() throws Exception {
        Run made = fleetctl(admin, "token", "create", "--role", "viewer", "--label", "wallboard", "--ttl", "30d", "--json");
        assertThat(made.code()).as(made.err()).isZero();
        String wallboard = made.json().get("token").asText();
        long id = made.json().get("id").asLong();
        assertThat(fleetctl(wallboard, "release", "list").code()).isZero();

        Run list = fleetctl(admin, "token", "list");
        assertThat(list.code()).as(list.err()).isZero();
        assertThat(list.out()).contains("wallboard").contains("viewer").contains("active").doesNotContain(wallboard);
        JsonNode listed = fleetctl(admin, "token", "list", "--json").json().get("tokens");
        JsonNode wb = java.util.stream.StreamSupport.stream(listed.spliterator(), false)
                .filter(t -> t.get("label").asText().equals("wallboard")).findFirst().orElseThrow();
        assertThat(wb.hasNonNull("lastUsedAt")).as("its use is recorded").isTrue();
        assertThat(fleetctl(wallboard, "token", "list").code()).isEqualTo(ExitCodes.FORBIDDEN);

        // The holder rotates its own token: the old secret is dead at once, the new one works.
        Run self = fleetctl(wallboard, "token", "rotate", "--self", "--reason", "laptop replaced");
        assertThat(self.code()).as(self.err()).isZero();
        String rotated = self.out().lines().findFirst().orElseThrow();
        assertThat(fleetctl(wallboard, "release", "list").code()).isEqualTo(ExitCodes.UNAUTHENTICATED);
        assertThat(fleetctl(rotated, "release", "list").code()).isZero();
        assertThat(fleetctl(admin, "token", "rotate", "--reason", "x").code()).isEqualTo(ExitCodes.USAGE);

        Run revoked = fleetctl(admin, "token", "revoke", Long.toString(id), "--reason", "wallboard retired");
        assertThat(revoked.code()).as(revoked.err()).isZero();
        Run after = fleetctl(rotated, "release", "list");
        assertThat(after.code()).isEqualTo(ExitCodes.UNAUTHENTICATED);
        assertThat(after.err()).contains("revoked").contains("'wallboard'").doesNotContain(rotated);
        assertThat(fleetctl(admin, "token", "rotate", Long.toString(id)).code()).isEqualTo(ExitCodes.CONFLICT);

        // Break-glass on the host: a new admin token from the data directory, audited as the local user.
        Run glass = controllerMain("admin-token", "--data-dir", data.toString(), "--label", "glass", "--reason", "all admins expired");
        assertThat(glass.code()).as(glass.err()).isZero();
        String glassToken = glass.out().strip();
        assertThat(fleetctl(glassToken, "token", "list").code()).isZero();
        JsonNode audit = fleetctl(admin, "audit", "list", "--actor", "local:" + System.getProperty("user.name"), "--json").json();
        assertThat(audit.get("entries")).singleElement().satisfies(e -> assertThat(e.get("action").asText()).isEqualTo("token.create"));
        for (String action : List.of("token.rotate", "token.revoke")) {
            assertThat(fleetctl(admin, "audit", "list", "--limit", "1000", "--json").json().get("entries").toString()).contains(action);
        }
    }

    @Test
    @Order(3)
    void inventoryReleaseCohortsAndIncidents() throws Exception {
        Path csv = dir.resolve("inventory.csv");
        Files.writeString(csv, "id,variant,region,corridor,site,tags\nrsu-1,rsu-a1,north,i-90,cab-1,pilot-ok\n"
                + "rsu-2,rsu-a1,north,i-90,cab-2,\nrsu-3,rsu-b1,north,i-94,cab-3,\n");
        Run imported = fleetctl(admin, "device", "import", csv.toString(), "--reason", "asset db export");
        assertThat(imported.code()).as(imported.err()).isZero();
        assertThat(imported.out()).contains("imported 3 devices (3 new, 0 updated)");

        Path badCsv = dir.resolve("bad.csv");
        Files.writeString(badCsv, "id,variant\nrsu-9,rsu-a1\nrsu-10,\n");
        Run bad = fleetctl(admin, "device", "import", badCsv.toString());
        assertThat(bad.code()).isEqualTo(ExitCodes.REJECTED);
        assertThat(bad.err()).contains("INVENTORY_INVALID").contains("line 3, field variant");

        Run list = fleetctl(operator, "device", "list", "--json");
        assertThat(list.code()).isZero();
        assertThat(list.json().get("devices")).hasSize(3);
        assertThat(fleetctl(operator, "device", "show", "rsu-1").out()).contains("region: north");
        assertThat(fleetctl(operator, "device", "show", "rsu-404").code()).isEqualTo(ExitCodes.NOT_FOUND);

        String name = Bundles.publish(Bundles.build(pki, dir.resolve("work"), "2.4.0", "rsu-a1"), data.resolve("artifacts"));
        Run release = fleetctl(admin, "release", "create", "--bundle", name, "--notes", "first field release");
        assertThat(release.code()).as(release.err()).isZero();
        assertThat(release.out()).contains("release 2.4.0 created: compatible rsu-a1").contains("/artifacts/" + name);
        Path rogue = Bundles.build(pki, pki.rogueSigner, dir.resolve("work"), "2.4.9", "rsu-a1");
        Run refused = fleetctl(admin, "release", "create", "--bundle", rogue.toString(), "--url", "https://cdn.example/x.rsub");
        assertThat(refused.code()).isEqualTo(ExitCodes.REJECTED);
        assertThat(refused.err()).contains("BUNDLE_REJECTED").contains("UNTRUSTED_SIGNER");
        assertThat(fleetctl(operator, "release", "show", "2.4.0", "--json").json().get("manifest").get("release").asText()).isEqualTo("2.4.0");
        assertThat(fleetctl(operator, "release", "list").out()).contains("2.4.0");

        Run canary = fleetctl(admin, "cohort", "create", "--release", "2.4.0", "--name", "canary", "--kind", "canary", "--device", "rsu-1");
        assertThat(canary.code()).as(canary.err()).isZero();
        Run pilot = fleetctl(admin, "cohort", "create", "--release", "2.4.0", "--name", "pilot", "--kind", "pilot", "--region", "north", "--json");
        assertThat(pilot.code()).as(pilot.err()).isZero();
        assertThat(pilot.json().get("members").toString()).isEqualTo("[\"rsu-2\"]");
        assertThat(pilot.json().get("excluded").toString()).contains("INCOMPATIBLE_VARIANT").contains("IN_OTHER_COHORT");
        long pilotId = pilot.json().get("cohort").get("id").asLong();
        Run conflict = fleetctl(admin, "cohort", "add", String.valueOf(pilotId), "rsu-1");
        assertThat(conflict.code()).isEqualTo(ExitCodes.CONFLICT);
        assertThat(conflict.err()).contains("COHORT_CONFLICT").contains("'canary'");
        Run incompatible = fleetctl(admin, "cohort", "add", String.valueOf(pilotId), "rsu-3");
        assertThat(incompatible.code()).isEqualTo(ExitCodes.REJECTED);
        assertThat(incompatible.err()).contains("INCOMPATIBLE_VARIANT");
        assertThat(fleetctl(operator, "cohort", "list", "--release", "2.4.0").out()).contains("canary").contains("pilot");

        Run open = fleetctl(operator, "incident", "open", "--id", "INC-7", "--severity", "sev1", "--release", "2.4.0", "--title", "RSU reboots");
        assertThat(open.code()).as(open.err()).isZero();
        assertThat(open.out()).contains("incident INC-7 opened: sev1, open, release 2.4.0");
        assertThat(fleetctl(operator, "incident", "open", "--id", "INC-8", "--severity", "sev3", "--release", "2.3.0").code()).isZero();
        Run openOnly = fleetctl(operator, "incident", "list", "--state", "open");
        assertThat(openOnly.out()).contains("INC-7").contains("RSU reboots").contains("INC-8");
        assertThat(fleetctl(operator, "incident", "close", "INC-7", "--json").json().get("change").asText()).isEqualTo("resolved");
        Run stillOpen = fleetctl(operator, "incident", "list", "--state", "open");
        assertThat(stillOpen.out()).contains("INC-8").doesNotContain("INC-7");
        Run byRelease = fleetctl(operator, "incident", "list", "--release", "2.4.0", "--json");
        assertThat(byRelease.code()).as(byRelease.err()).isZero();
        assertThat(byRelease.json().get("incidents")).as(byRelease.out())
                .singleElement().satisfies(i -> assertThat(i.get("state").asText()).isEqualTo("resolved"));
        Run badState = fleetctl(operator, "incident", "list", "--state", "sleeping");
        assertThat(badState.code()).isEqualTo(ExitCodes.REJECTED);
        assertThat(badState.err()).contains("state").contains("sleeping");
    }

    @Test
    @Order(4)
    void auditListExportAndVerifyFindsATamperedRow() throws Exception {
        Run list = fleetctl(operator, "audit", "list", "--limit", "1000");
        assertThat(list.code()).isZero();
        assertThat(list.out()).contains("release.create").contains("cohort.create").contains("incident.resolve").contains("night-ops");
        Path export = dir.resolve("audit.jsonl");
        assertThat(fleetctl(operator, "audit", "export", "-o", export.toString()).code()).isZero();
        List<String> lines = Files.readAllLines(export);
        assertThat(lines).isNotEmpty();
        Run ok = fleetctl(operator, "audit", "verify");
        assertThat(ok.code()).isZero();
        assertThat(ok.out()).contains("audit chain ok: " + lines.size() + " entries");

        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + data.resolve("fleet.db")); Statement st = c.createStatement()) {
            st.execute("PRAGMA busy_timeout = 5000");
            st.execute("UPDATE audit SET actor = 'someone-else' WHERE seq = 2");
        }
        Run broken = fleetctl(operator, "audit", "verify");
        assertThat(broken.code()).isEqualTo(ExitCodes.AUDIT_BROKEN);
        assertThat(broken.err().strip()).startsWith("fleetctl: audit chain broken at entry 2:").doesNotContain("\n");
        assertThat(fleetctl(operator, "audit", "verify", "--json").out()).contains("\"firstBroken\" : 2");
    }

    @Test
    @Order(5)
    void unreachableControllerAndUsageErrorsHaveTheirOwnCodes() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Fleetctl.execute(new String[] {"--url", "http://127.0.0.1:" + closedPort, "--token", admin, "device", "list"},
                new PrintWriter(out), new PrintWriter(err));
        assertThat(code).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(err.toString()).contains("cannot reach the controller").contains("connection refused");

        assertThat(fleetctl(admin, "device", "frobnicate").code()).isEqualTo(ExitCodes.USAGE);
        assertThat(fleetctl(admin, "token", "create", "--label", "no-role").code()).isEqualTo(ExitCodes.USAGE);
        assertThat(fleetctl(admin, "device", "import", dir.resolve("missing.csv").toString()).code()).isEqualTo(ExitCodes.LOCAL_IO);
    }
}
