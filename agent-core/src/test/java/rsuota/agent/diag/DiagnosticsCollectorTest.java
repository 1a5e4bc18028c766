package rsuota.agent.diag;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bundles checked with the system's GNU tar, the way a technician will open them. */
class DiagnosticsCollectorTest {

    static final List<String> SECRETS = List.of("hunter2", "s3cr3t-token-value", "AKIA-API-KEY-123", "db-pass-456",
            "mqttpass789", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "yaml-secret-xyz", "private-path-abc");

    @TempDir
    Path tmp;

    private Path extract(Path archive) throws Exception {
        Path out = Files.createDirectories(tmp.resolve("extracted-" + System.nanoTime()));
        Process p = new ProcessBuilder("tar", "-xzf", archive.toString(), "-C", out.toString()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("tar -xzf: %s", output).isZero();
        return out;
    }

    private static String everything(Path dir) throws IOException {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                sb.append("=== ").append(dir.relativize(f)).append('\n');
                sb.append(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1)).append('\n');
            }
        }
        return sb.toString();
    }

    @Test
    void secretsNeverLeaveTheBoxAndEverythingElseIsThere() throws Exception {
        Path config = tmp.resolve("agent.conf");
        Files.writeString(config, String.join("\n",
                "# RSU agent",
                "device.id = rsu-0042",
                "mqtt.url = ssl://broker.example:8883",
                "mqtt.password = hunter2",
                "api_token: s3cr3t-token-value",
                "  \"keyFile\": \"/etc/rsu/client.pem\",",
                "  \"apiKey\": \"AKIA-API-KEY-123\",",
                "  \"api-key\": \"AKIA-API-KEY-123\",",
                "DB_PASSWORD=db-pass-456",
                "bridge = mqtts://rsu:mqttpass789@broker.example:8883",
                "secrets:",
                "  yaml_secret: yaml-secret-xyz",
                "tls.private_key_path = /etc/rsu/private-path-abc.pem",
                "inline_cert = -----BEGIN PRIVATE KEY-----",
                "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
                "-----END PRIVATE KEY-----",
                "heartbeat.seconds = 60",
                ""));
        Path state = Files.createDirectories(tmp.resolve("state"));
        Files.writeString(state.resolve("journal.json"), "{\"state\":\"downloading\",\"rev\":7}");
        Files.writeString(state.resolve("device.key"), "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n");
        Files.writeString(state.resolve("looks-innocent.pem"), "-----BEGIN EC PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END EC PRIVATE KEY-----\n");
        Path deep = Files.createDirectories(state.resolve("a".repeat(60)).resolve("b".repeat(60)));
        Files.writeString(deep.resolve("long-name-entry.txt"), "deep file");
        Path logs = Files.createDirectories(tmp.resolve("logs"));
        Files.writeString(logs.resolve("agent.log"), "12:00 started\n12:01 connected\n");
        Files.writeString(logs.resolve("upload.log"), "12:02 uploading to https://diag.example/u?id=9&token=s3cr3t-token-value ok\n");
        Path fakeJournal = tmp.resolve("journalctl");
        Files.writeString(fakeJournal, "#!/bin/sh\necho \"journal of $2\"\necho \"Nov 27 rsu-agent[1]: password=hunter2\"\n");
        Files.setPosixFilePermissions(fakeJournal, PosixFilePermissions.fromString("rwx------"));

        DiagnosticsConfig cfg = DiagnosticsConfig.of(logs, state, config, List.of("rsu-agent.service", "rsu-app.service"))
                .withJournalctl(fakeJournal.toString());
        DiagnosticsCollector.Archive a = new DiagnosticsCollector(cfg, Clock.systemUTC()).collect(tmp.resolve("out/diag.tar.gz"));
        Path x = extract(a.file());
        String all = everything(x);

        for (String secret : SECRETS) assertThat(all).as("secret %s", secret).doesNotContain(secret);
        String conf = Files.readString(x.resolve("config/agent.conf"));
        assertThat(conf).contains("device.id = rsu-0042", "mqtt.url = ssl://broker.example:8883", "heartbeat.seconds = 60",
                "mqtt.password = ***", "\"api-key\": \"***\",", "mqtts://***:***@broker.example:8883", "\"keyFile\": \"/etc/rsu/client.pem\"",
                "inline_cert = -----BEGIN PRIVATE KEY-----\n***\n-----END PRIVATE KEY-----");
        assertThat(Files.readString(x.resolve("journal/rsu-agent.service.txt"))).contains("journal of rsu-agent.service", "password=***");
        assertThat(Files.readString(x.resolve("journal/rsu-app.service.txt"))).contains("journal of rsu-app.service");
        assertThat(Files.readString(x.resolve("state/journal.json"))).contains("\"rev\":7");
        assertThat(x.resolve("state/device.key")).doesNotExist();
        assertThat(x.resolve("state/looks-innocent.pem")).doesNotExist();
        assertThat(Files.readString(x.resolve("state/" + "a".repeat(60) + "/" + "b".repeat(60) + "/long-name-entry.txt"))).isEqualTo("deep file");
        assertThat(Files.readString(x.resolve("logs/agent.log"))).contains("12:01 connected");
        assertThat(Files.readString(x.resolve("SUMMARY.txt"))).contains("state/device.key: skipped, holds key material", "secret values replaced");
        assertThat(a.truncated()).isFalse();
    }

    @Test
    void aMissingOrFailingJournalctlIsReportedInTheBundle() throws Exception {
        Path failing = tmp.resolve("journalctl-failing");
        Files.writeString(failing, "#!/bin/sh\necho 'Failed to open journal' >&2\nexit 3\n");
        Files.setPosixFilePermissions(failing, PosixFilePermissions.fromString("rwx------"));
        for (String program : List.of("/nonexistent/journalctl", failing.toString(), "journalctl")) {
            DiagnosticsConfig cfg = new DiagnosticsConfig(null, null, null, List.of("rsu-agent.service"), 50, 1 << 20,
                    program, Duration.ofSeconds(20));
            DiagnosticsCollector.Archive a = new DiagnosticsCollector(cfg, Clock.systemUTC()).collect(tmp.resolve("j.tar.gz"));
            String journal = Files.readString(extract(a.file()).resolve("journal/rsu-agent.service.txt"));
            if (program.startsWith("/nonexistent")) assertThat(journal).startsWith("journalctl unavailable:");
            else if (program.equals(failing.toString())) assertThat(journal).startsWith("journalctl failed: exit code 3").contains("Failed to open journal");
            // The real journalctl of this machine: whatever it says, the command line is recorded.
            else assertThat(journal).contains("-u rsu-agent.service --no-pager -n 50");
        }
    }

    @Test
    void theBundleRespectsItsSizeCapAndKeepsTheNewestPartOfBigLogs() throws Exception {
        Path logs = Files.createDirectories(tmp.resolve("logs"));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 60_000; i++) sb.append("line ").append(i).append(" of the big log, with some padding text\n");
        Files.writeString(logs.resolve("big.log"), sb);                      // ~3 MiB
        Files.writeString(logs.resolve("old.log"), "old\n".repeat(100_000));  // ~400 KiB, older
        Files.setLastModifiedTime(logs.resolve("old.log"), java.nio.file.attribute.FileTime.fromMillis(0));
        long cap = 512 * 1024;
        DiagnosticsConfig cfg = DiagnosticsConfig.of(logs, null, null, List.of()).withMaxBytes(cap);
        DiagnosticsCollector.Archive a = new DiagnosticsCollector(cfg, Clock.systemUTC()).collect(tmp.resolve("cap.tar.gz"));
        assertThat(a.tarBytes()).isLessThanOrEqualTo(cap);
        assertThat(a.bytes()).isLessThanOrEqualTo(cap);
        Path x = extract(a.file());
        String big = Files.readString(x.resolve("logs/big.log"));
        assertThat(big).contains("line 59999 of the big log").doesNotContain("line 0 of the big log\n");
        assertThat(x.resolve("logs/old.log")).doesNotExist();
        assertThat(a.truncated()).isTrue();
        assertThat(Files.readString(x.resolve("SUMMARY.txt"))).contains("logs/big.log: cut to its last", "logs/old.log: left out");
    }
}
