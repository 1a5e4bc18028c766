package rsuota.fleet.link;

import com.hivemq.embedded.EmbeddedHiveMQ;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * HiveMQ CE embedded in the controller's JVM, for a zero-setup controller and the lab. Our own
 * configuration, not the bundled one (which binds 0.0.0.0:1883 with usage statistics on): a
 * loopback listener by default, in-memory persistence (the controller re-publishes desired
 * states after every connect, see {@code DesiredStatePublisher}), statistics off, and HiveMQ's
 * own logging bootstrap skipped so it logs through the controller's logback.
 */
public final class HiveMqEmbeddedBroker implements MqttBroker {
    /** HiveMQ needs ~2.4 s here; a cold JIT on a busy CI box takes longer. */
    private static final long START_TIMEOUT_S = 60;
    /**
     * In-flight messages HiveMQ lets each client have towards it (announced as Receive Maximum).
     * The default of 10 would throttle the controller's own re-publish of thousands of retained
     * desired states; devices publish far below it anyway.
     */
    static final int RECEIVE_MAXIMUM = 200;

    private final EmbeddedHiveMQ hive;
    private final String uri;

    private HiveMqEmbeddedBroker(EmbeddedHiveMQ hive, String uri) {
        this.hive = hive;
        this.uri = uri;
    }

    /**
     * Starts a broker with its folders under {@code dir}.
     *
     * @param host address to bind (127.0.0.1 unless devices on the network must reach it)
     * @param port port (1883 by convention)
     */
    public static HiveMqEmbeddedBroker start(Path dir, String host, int port) throws IOException {
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Path data = Files.createDirectories(dir.resolve("data"));
        Path ext = Files.createDirectories(dir.resolve("extensions"));
        Files.writeString(conf.resolve("config.xml"), config(host, port), StandardCharsets.UTF_8);
        EmbeddedHiveMQ hive = EmbeddedHiveMQ.builder().withConfigurationFolder(conf).withDataFolder(data).withExtensionsFolder(ext)
                .withoutLoggingBootstrap().build();
        try {
            hive.start().get(START_TIMEOUT_S, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            closeQuietly(hive);
            throw new IOException("embedded HiveMQ did not start on " + host + ":" + port + ": " + (e.getCause() != null ? e.getCause() : e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(hive);
            throw new IOException("interrupted while starting the embedded broker", e);
        }
        return new HiveMqEmbeddedBroker(hive, "tcp://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port);
    }

    static String config(String host, int port) {
        return """
                <?xml version="1.0"?>
                <hivemq>
                  <listeners>
                    <tcp-listener><port>%d</port><bind-address>%s</bind-address></tcp-listener>
                  </listeners>
                  <mqtt>
                    <receive-maximum><server-receive-maximum>%d</server-receive-maximum></receive-maximum>
                  </mqtt>
                  <persistence><mode>in-memory</mode></persistence>
                  <anonymous-usage-statistics><enabled>false</enabled></anonymous-usage-statistics>
                </hivemq>
                """.formatted(port, host, RECEIVE_MAXIMUM);
    }

    @Override
    public String uri() {
        return uri;
    }

    @Override
    public void close() {
        try {
            hive.stop().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("embedded HiveMQ did not stop cleanly: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeQuietly(hive);
        }
    }

    private static void closeQuietly(EmbeddedHiveMQ hive) {
        try {
            hive.close();
        } catch (Exception e) {
            // EmbeddedHiveMQ.close() declares Exception; a broker failing to close has nothing left to release for us.
        }
    }
}
