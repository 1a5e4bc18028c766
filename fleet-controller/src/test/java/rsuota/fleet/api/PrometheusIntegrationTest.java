package rsuota.fleet.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.fixtures.pki.TestPki;
import rsuota.fixtures.prom.PrometheusServer;
import rsuota.fleet.app.Controller;
import rsuota.fleet.cohort.Cohorts;
import rsuota.fleet.domain.CohortKind;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.policy.PauseEvent;
import rsuota.fleet.policy.PauseRule;
import rsuota.fleet.policy.RuleSet;
import rsuota.fleet.rollout.Approval;
import rsuota.fleet.rollout.Rollouts;
import rsuota.fleet.testing.DeviceMessages;
import rsuota.fleet.testing.RecordingTransport;
import rsuota.fleet.testing.RunningController;
import rsuota.wire.MqttState;

/**
 * The controller's /metrics against the real Debian Prometheus and promtool: the exposition is
 * lint-clean, the shipped rules load and the "rollout paused" alert fires, the availability
 * Prometheus stores for a cohort (and for a slice) equals the value in the pause explanation, every
 * query of the shipped Grafana dashboard evaluates, and the pause event links to the graph of the
 * exact series that fired. The controller's clock is frozen, so every scrape sees the same values.
 */
class PrometheusIntegrationTest {
    static final Principal RM = new Principal("rm", Role.RELEASE_MANAGER);
    static final Path RULES = Path.of("..", "docs", "prometheus", "rsu-ota.rules.yml");
    static final Path DASHBOARD = Path.of("..", "docs", "grafana", "rsu-ota-rollouts.json");

    @TempDir Path dir;
    RunningController rc;
    Controller c;

    @BeforeEach
    void start() throws Exception {
        TestPki pki = new TestPki();
        rc = new RunningController(pki, dir, cfg -> new Controller.Config(cfg.dir(), cfg.keyring(), cfg.host(), cfg.port(), cfg.broker(), cfg.publicUrl(),
                cfg.tick(), cfg.links().withRollout("prometheus", "http://prometheus.example:9090/graph?g0.expr={expr}&g0.range_input={range}"),
                cfg.alertWebhook(), cfg.sharedGroup()));
        c = rc.controller;
        c.transport(new RecordingTransport());
        rc.releases("2.3.0", "2.4.0", dir.resolve("w"));
    }

    @AfterEach
    void stop() {
        rc.close();
    }

    static double value(String queryAnswer) throws Exception {
        JsonNode r = ApiJson.MAPPER.readTree(queryAnswer).path("data").path("result");
        assertThat(r.size()).as("one series: %s", queryAnswer).isEqualTo(1);
        return Double.parseDouble(r.get(0).path("value").get(1).asText());
    }

    @Test
    void prometheusStoresTheValueThePauseExplanationCarriesAndTheShippedRulesAndDashboardWork() throws Exception {
        List<String> ids = List.of("p1", "p2", "p3", "q1");
        for (String d : ids) {
            assertThat(c.ingest().accept(List.of(DeviceMessages.state(d, "rsu-a1", d.startsWith("q") ? "i-90" : "i-5", null, null, 0,
                    DeviceMessages.GOOD)))).isEqualTo(1);
        }
        long cohort = c.cohorts().create(RM, new Cohorts.NewCohort("2.4.0", "pilot", CohortKind.PILOT, null, null, ids, null)).cohort().id();
        RuleSet rules = new RuleSet(1, Duration.ofMinutes(5), List.of(new PauseRule.AvailabilityBelow(0.995, Duration.ZERO, 1, List.of("corridor"), null),
                new PauseRule.LagP95Above(Duration.ofSeconds(10), Duration.ofMinutes(10), 1)));
        long id = c.rollouts().create(RM, new Rollouts.NewRollout("2.4.0", List.of(new Rollouts.NewPhase(cohort, null, null, Duration.ofDays(7),
                Approval.MANUAL, null)), null, rules, null, null)).id();
        c.rollouts().start(RM, id, null);
        c.engine().tick(rc.clock.instant());
        MqttState.Kpis bad = new MqttState.Kpis(0.93, 300, 2000, 0.0001);
        for (String d : ids) {
            long rev = c.database().read(tx -> tx.desired().find(d)).orElseThrow().rev();
            c.ingest().accept(List.of(DeviceMessages.state(d, "rsu-a1", d.startsWith("q") ? "i-90" : "i-5", "activated", "2.4.0", rev, bad)));
        }
        assertThat(c.engine().tick(rc.clock.instant()).pauses()).hasSize(1);
        PauseEvent pause = c.rollouts().status(id).pauses().get(0);
        double explained = pause.findings().get(0).observed();
        assertThat(pause.links().get("prometheus")).startsWith("http://prometheus.example:9090/graph?g0.expr=rsuota_cohort_availability_ratio%7B")
                .contains("cohort%3D%22pilot%22").contains("&g0.range_input=300s");

        String metrics = rc.get("/metrics", rc.tokens.get(Role.VIEWER)).body();
        PrometheusServer.ToolResult lint = PrometheusServer.checkMetrics(metrics);
        assertThat(lint.exit()).as(lint.output()).isZero();
        assertThat(lint.output().strip()).as("promtool lint findings").isEmpty();
        PrometheusServer.ToolResult ruleCheck = PrometheusServer.checkRules(List.of(RULES));
        assertThat(ruleCheck.exit()).as(ruleCheck.output()).isZero();

        try (PrometheusServer prom = PrometheusServer.start("127.0.0.1:" + rc.uri().getPort(), "/metrics", rc.tokens.get(Role.VIEWER), List.of(RULES))) {
            String cohortExpr = "rsuota_cohort_availability_ratio{rollout=\"" + id + "\",cohort=\"pilot\",slice=\"\"}";
            await().atMost(Duration.ofSeconds(30)).until(() -> ApiJson.MAPPER.readTree(prom.query(cohortExpr)).path("data").path("result").size() == 1);
            assertThat(value(prom.query(cohortExpr))).as("Prometheus stores the value the pause explanation shows").isEqualTo(explained);
            double slice = value(prom.query("rsuota_cohort_availability_ratio{rollout=\"" + id + "\",slice=\"corridor=i-90\"}"));
            double sliceInStatus = c.rollouts().status(id).phases().get(0).kpis().stream()
                    .filter(k -> k.rule().equals("availability-below") && "i-90".equals(k.slice().get("corridor"))).findFirst().orElseThrow().observed();
            assertThat(slice).as("the slice's value as the rollout status shows it").isEqualTo(sliceInStatus);
            assertThat(value(prom.query("rsuota_rollout_paused{rollout=\"" + id + "\"}"))).isEqualTo(1);
            assertThat(value(prom.query("rsuota_rule_threshold_ratio{rollout=\"" + id + "\",rule=\"availability-below\"}"))).isEqualTo(0.995);
            assertThat(value(prom.query("rsuota_rule_threshold_seconds{rollout=\"" + id + "\",rule=\"lag-p95-above\"}"))).isEqualTo(10.0);
            double worst = c.rollouts().status(id).phases().get(0).kpis().stream().filter(k -> k.rule().equals("availability-below"))
                    .mapToDouble(k -> k.observed()).min().orElseThrow();
            String recorded = "rsuota:cohort_availability_ratio:min_over_slices{rollout=\"" + id + "\"}";
            // A recording rule has a value from its first evaluation after the first scrape on.
            await().atMost(Duration.ofSeconds(30)).until(() -> ApiJson.MAPPER.readTree(prom.query(recorded)).path("data").path("result").size() == 1);
            assertThat(value(prom.query(recorded))).isEqualTo(worst);
            await().atMost(Duration.ofSeconds(30)).until(() -> prom.query("ALERTS{alertname=\"RsuRolloutPaused\",alertstate=\"firing\"}")
                    .contains("RsuRolloutPaused"));

            // Every query of the shipped dashboard evaluates against the real series (the template variable set to all releases).
            JsonNode dashboard = ApiJson.MAPPER.readTree(Files.readString(DASHBOARD));
            List<String> exprs = new ArrayList<>();
            for (JsonNode p : dashboard.path("panels")) for (JsonNode t : p.path("targets")) exprs.add(t.path("expr").asText());
            for (JsonNode a : dashboard.path("annotations").path("list")) exprs.add(a.path("expr").asText());
            assertThat(exprs).hasSizeGreaterThanOrEqualTo(7);
            for (String e : exprs) {
                String q = e.replace("$release", ".*");
                JsonNode answer = ApiJson.MAPPER.readTree(prom.query(q));
                assertThat(answer.path("status").asText()).as(q).isEqualTo("success");
            }
            assertThat(ApiJson.MAPPER.readTree(prom.query("sum by (bucket) (rsuota_cohort_devices{rollout=\"" + id + "\"})")).path("data")
                    .path("result").size()).isGreaterThan(1);
        }
    }
}
