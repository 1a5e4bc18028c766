package rsuota.lab.net;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * One MQTT control packet as it crosses the wire (MQTT 3.1.1 and 5 share the framing): the fixed
 * header byte and the body of "remaining length" bytes. Only what {@link DesiredUrlRewriter}
 * needs is decoded: CONNECT's protocol level and client id, PUBLISH's topic and payload.
 */
record MqttPacket(int header, byte[] body) {

    static final int CONNECT = 1;
    static final int PUBLISH = 3;
    /** Far above any packet between a controller and a roadside unit (the agent caps them at 256 KiB). */
    static final int MAX_BODY = 4 << 20;

    int type() {
        return (header >> 4) & 0x0f;
    }

    int qos() {
        return (header >> 1) & 0x03;
    }

    /** Reads one packet; null at a clean end of stream before its first byte. */
    static MqttPacket read(InputStream in) throws IOException {
        int h = in.read();
        if (h < 0) return null;
        int length = 0;
        int shift = 0;
        // The remaining length is a variable byte integer of at most four bytes.
        for (int i = 0; i < 4; i++) {
            int b = in.read();
            if (b < 0) throw new EOFException("stream ended inside a packet length");
            length |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                if (length > MAX_BODY) throw new IOException("MQTT packet of " + length + " bytes exceeds the lab's " + MAX_BODY);
                return new MqttPacket(h, in.readNBytes(length)).complete(length);
            }
            shift += 7;
        }
        throw new IOException("malformed MQTT remaining length (more than four bytes)");
    }

    private MqttPacket complete(int length) throws EOFException {
        if (body.length != length) throw new EOFException("stream ended inside a packet body (" + body.length + " of " + length + " bytes)");
        return this;
    }

    byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length + 5);
        out.write(header);
        writeVarInt(out, body.length);
        out.writeBytes(body);
        return out.toByteArray();
    }

    static void writeVarInt(ByteArrayOutputStream out, int value) {
        int v = value;
        // At most four bytes for any value up to MAX_BODY.
        for (int i = 0; i < 4; i++) {
            int b = v & 0x7f;
            v >>>= 7;
            out.write(v > 0 ? b | 0x80 : b);
            if (v == 0) return;
        }
    }

    /** Reads a variable byte integer at {@code pos}; returns {value, bytes used}. */
    static int[] readVarInt(byte[] b, int pos) throws IOException {
        int value = 0;
        int shift = 0;
        for (int i = 0; i < 4; i++) {
            if (pos + i >= b.length) throw new IOException("truncated variable byte integer");
            int x = b[pos + i] & 0xff;
            value |= (x & 0x7f) << shift;
            if ((x & 0x80) == 0) return new int[] {value, i + 1};
            shift += 7;
        }
        throw new IOException("variable byte integer longer than four bytes");
    }

    static int u16(byte[] b, int pos) throws IOException {
        if (pos + 2 > b.length) throw new IOException("truncated two-byte integer");
        return ((b[pos] & 0xff) << 8) | (b[pos + 1] & 0xff);
    }

    static String utf8(byte[] b, int pos) throws IOException {
        int n = u16(b, pos);
        if (pos + 2 + n > b.length) throw new IOException("truncated string");
        return new String(b, pos + 2, n, StandardCharsets.UTF_8);
    }

    /** CONNECT: {protocol level, client id}. */
    record Connect(int level, String clientId) {}

    Connect connect() throws IOException {
        int pos = 0;
        String protocol = utf8(body, pos);
        pos += 2 + protocol.getBytes(StandardCharsets.UTF_8).length;
        if (pos >= body.length) throw new IOException("truncated CONNECT");
        int level = body[pos] & 0xff;
        pos += 1 + 1 + 2; // level, flags, keep alive
        if (level >= 5) {
            int[] props = readVarInt(body, pos);
            pos += props[1] + props[0];
        }
        return new Connect(level, utf8(body, pos));
    }

    /** PUBLISH: the topic, where the payload starts, and the payload. */
    record Publish(String topic, int payloadOffset) {}

    Publish publish(int level) throws IOException {
        int pos = 0;
        String topic = utf8(body, pos);
        pos += 2 + topic.getBytes(StandardCharsets.UTF_8).length;
        if (qos() > 0) pos += 2;
        if (level >= 5) {
            int[] props = readVarInt(body, pos);
            pos += props[1] + props[0];
        }
        if (pos > body.length) throw new IOException("truncated PUBLISH");
        return new Publish(topic, pos);
    }

    /** The same PUBLISH with another payload (the remaining length follows). */
    MqttPacket withPayload(int payloadOffset, byte[] payload) {
        byte[] b = new byte[payloadOffset + payload.length];
        System.arraycopy(body, 0, b, 0, payloadOffset);
        System.arraycopy(payload, 0, b, payloadOffset, payload.length);
        return new MqttPacket(header, b);
    }
}
