package rsuota.lab.net;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The MQTT hop against a scripted broker on loopback: it learns the device from CONNECT, points
 * that device's desired states at its own bundle path, and passes everything else byte for byte.
 */
class DesiredUrlRewriterTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String CONTROLLER = "http://127.0.0.1:8080";

    static byte[] connectV5(String clientId) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {0, 4, 'M', 'Q', 'T', 'T', 5, 0x02, 0, 60, 0});
        utf8(body, clientId);
        return new MqttPacket(0x10, body.toByteArray()).encode();
    }

    static byte[] publishV5(String topic, String payload) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        utf8(body, topic);
        body.writeBytes(new byte[] {0, 7, 2, 0x01, 0x01}); // packet id 7; 2 bytes of properties: payload format indicator = UTF-8
        body.writeBytes(payload.getBytes(StandardCharsets.UTF_8));
        return new MqttPacket(0x33, body.toByteArray()).encode(); // PUBLISH, QoS 1, retained
    }

    static void utf8(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write(b.length >> 8);
        out.write(b.length & 0xff);
        out.writeBytes(b);
    }

    @Test
    void pointsTheDevicesDesiredStateAtItsOwnPathAndPassesTheRestUnchanged() throws Exception {
        String desired = "{\"schema\":\"rsu.desired/1\",\"rev\":3,\"bundleUrl\":\"" + CONTROLLER + "/artifacts/2.0.rsub\",\"action\":\"ACTIVATE\"}";
        String other = "{\"bundleUrl\":\"" + CONTROLLER + "/artifacts/2.0.rsub\"}";
        byte[] otherPacket = publishV5("rsu/v1/dev/rsu-1/cmd", other);
        try (ServerSocket broker = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             DesiredUrlRewriter hop = DesiredUrlRewriter.start(broker.getLocalPort(), CONTROLLER,
                     id -> id.equals("rsu-1") ? "http://127.0.0.1:4242" : null)) {
            CompletableFuture<MqttPacket> connectSeen = CompletableFuture.supplyAsync(() -> {
                try {
                    Socket s = broker.accept();
                    MqttPacket c = MqttPacket.read(s.getInputStream());
                    s.getOutputStream().write(publishV5("rsu/v1/dev/rsu-1/desired", desired));
                    s.getOutputStream().write(otherPacket);
                    s.getOutputStream().flush();
                    return c;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try (Socket device = new Socket(InetAddress.getLoopbackAddress(), hop.port())) {
                device.setSoTimeout(10_000);
                device.getOutputStream().write(connectV5("rsu-1"));
                assertThat(connectSeen.get(10, TimeUnit.SECONDS).connect().clientId()).isEqualTo("rsu-1");
                InputStream in = device.getInputStream();

                MqttPacket first = MqttPacket.read(in);
                MqttPacket.Publish pub = first.publish(5);
                assertThat(pub.topic()).isEqualTo("rsu/v1/dev/rsu-1/desired");
                assertThat(first.header()).as("QoS and retain flags kept").isEqualTo(0x33);
                var tree = JSON.readTree(Arrays.copyOfRange(first.body(), pub.payloadOffset(), first.body().length));
                assertThat(tree.path("bundleUrl").asText()).isEqualTo("http://127.0.0.1:4242/artifacts/2.0.rsub");
                assertThat(tree.path("rev").asInt()).isEqualTo(3);

                MqttPacket second = MqttPacket.read(in);
                assertThat(second.encode()).as("not a desired state: byte for byte").isEqualTo(otherPacket);
                assertThat(hop.rewritten()).isEqualTo(1);
            }
        }
    }

    @Test
    void packetsRoundTripWithTheirRemainingLength() throws Exception {
        byte[] big = new byte[300_000];
        Arrays.fill(big, (byte) 'x');
        byte[] encoded = publishV5("t", new String(big, StandardCharsets.US_ASCII));
        MqttPacket p = MqttPacket.read(new java.io.ByteArrayInputStream(encoded));
        assertThat(p.encode()).isEqualTo(encoded);
        assertThat(p.withPayload(p.publish(5).payloadOffset(), new byte[] {'y'}).encode()).hasSize(1 + 1 + 3 + 5 + 1);
    }
}
