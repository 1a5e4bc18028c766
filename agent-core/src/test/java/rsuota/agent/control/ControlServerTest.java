package rsuota.agent.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;

/**
 * The control socket's framing on a real Unix socket: the greeting, one request, messages and one
 * reply; every malformed request gets BAD_REQUEST naming what is wrong, and the handler never sees
 * it; a stale socket file is replaced, a live one or a non-socket refused.
 */
class ControlServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir Path tmp;
    ControlServer server;
    int handled;

    @AfterEach
    void stop() {
        if (server != null) server.close();
    }

    ControlServer start(Path socket) throws AgentException {
        server = ControlServer.start(socket, new ControlAccess("rsu-tech"), "rsu-1", call -> {
            handled++;
            if (call.request().op().equals("lock")) call.request().required("reason");
            call.progress(Map.of("note", "working"));
            call.reply(List.of("done " + call.request().op()), Map.of("by", call.peer().actor()));
        });
        return server;
    }

    /**
     * Sends raw lines; returns every line the daemon wrote back until it closed. The channel's own
     * read and write, not Channels streams: those share one lock, and a writer blocked on a daemon
     * that stopped reading would hold it against the reader.
     */
    static List<JsonNode> raw(Path socket, String... lines) throws Exception {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            Thread writer = new Thread(() -> {
                try {
                    for (String l : lines) {
                        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap((l + "\n").getBytes(StandardCharsets.UTF_8));
                        while (b.hasRemaining()) ch.write(b);
                    }
                    ch.shutdownOutput();
                } catch (java.io.IOException refused) {
                    // the daemon closed first: what it answered is read below
                }
            });
            writer.start();
            java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(8192);
            try {
                while (ch.read(buf) >= 0) {
                    all.write(buf.array(), 0, buf.position());
                    buf.clear();
                }
            } catch (java.net.SocketException reset) {
                // a daemon that closes with our unread bytes still queued resets the socket after its last line
            }
            ch.close(); // releases a writer still blocked on a full socket
            writer.join(10_000);
            List<JsonNode> got = new java.util.ArrayList<>();
            for (String l : all.toString(StandardCharsets.UTF_8).split("\n")) if (!l.isBlank()) got.add(JSON.readTree(l));
            return got;
        }
    }

    @Test
    void aRequestGetsTheGreetingItsMessagesAndOneReply() throws Exception {
        Path socket = tmp.resolve("c.sock");
        start(socket);
        Optional<ControlClient> c = ControlClient.connect(socket);
        assertThat(c).isPresent();
        assertThat(c.get().hello().path("device").asText()).isEqualTo("rsu-1");
        List<JsonNode> seen = new java.util.ArrayList<>();
        ControlClient.Reply r = c.get().call("status", Map.of(), seen::add);
        assertThat(seen).singleElement().satisfies(m -> assertThat(m.at("/progress/note").asText()).isEqualTo("working"));
        assertThat(r.lines()).containsExactly("done status");
        assertThat(r.result().path("by").asText()).isEqualTo("technician:" + System.getProperty("user.name"));
        c.get().close();
        assertThat(Files.getPosixFilePermissions(socket)).extracting(Object::toString).containsExactlyInAnyOrder("OWNER_READ", "OWNER_WRITE",
                "GROUP_READ", "GROUP_WRITE");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "not JSON            | {\"v\":1,                                                     | the request is not JSON",
            "not an object       | [1,2]                                                         | not a JSON object",
            "another version     | {\"v\":2,\"type\":\"request\",\"id\":1,\"op\":\"status\"}     | protocol version 2 is not spoken here",
            "not a request       | {\"v\":1,\"type\":\"hello\",\"id\":1,\"op\":\"status\"}       | expected a message of type request",
            "unknown op          | {\"v\":1,\"type\":\"request\",\"id\":1,\"op\":\"format\"}     | unknown op 'format'",
            "args not an object  | {\"v\":1,\"type\":\"request\",\"id\":1,\"op\":\"lock\",\"args\":[1]} | args must be an object of strings",
            "argument not text   | {\"v\":1,\"type\":\"request\",\"id\":1,\"op\":\"lock\",\"args\":{\"reason\":5}} | argument 'reason' must be a string",
            "missing argument    | {\"v\":1,\"type\":\"request\",\"id\":1,\"op\":\"lock\",\"args\":{}} | lock needs the argument 'reason'"})
    void everyMalformedRequestIsABadRequestThatSaysWhat(String what, String line, String message) throws Exception {
        Path socket = tmp.resolve("b.sock");
        start(socket);
        List<JsonNode> got = raw(socket, line);
        assertThat(got.get(0).path("type").asText()).isEqualTo("hello");
        JsonNode reply = got.get(got.size() - 1);
        assertThat(reply.path("type").asText()).isEqualTo("reply");
        assertThat(reply.path("ok").asBoolean()).isFalse();
        assertThat(reply.at("/error/code").asText()).isEqualTo(AgentError.BAD_REQUEST.wire());
        assertThat(reply.at("/error/exit").asInt()).isEqualTo(AgentError.BAD_REQUEST.exit().code());
        assertThat(reply.at("/error/message").asText()).contains(message);
        assertThat(handled).as("only a well-formed request with its arguments reaches the handler")
                .isEqualTo(what.equals("missing argument") ? 1 : 0);
    }

    @Test
    void aLineLongerThanTheLimitIsRefusedWithoutReadingItAll() throws Exception {
        Path socket = tmp.resolve("l.sock");
        start(socket);
        List<JsonNode> got = raw(socket, "x".repeat(ControlProtocol.MAX_LINE + 10));
        assertThat(got.get(got.size() - 1).at("/error/message").asText()).contains("longer than " + ControlProtocol.MAX_LINE);
        assertThat(handled).isZero();
    }

    @Test
    void aStaleSocketFileIsReplacedALiveOneOrANonSocketRefused() throws Exception {
        Path socket = tmp.resolve("s.sock");
        ControlServer first = start(socket);
        assertThatThrownBy(() -> ControlServer.start(socket, new ControlAccess("rsu-tech"), "rsu-2", call -> { }))
                .isInstanceOf(AgentException.class).hasMessageContaining("another daemon answers on control.socket");
        // a killed daemon leaves its file: bind a socket nobody accepts on, then close it without removing the file
        first.close();
        try (var ch = java.nio.channels.ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.bind(UnixDomainSocketAddress.of(socket));
        }
        assertThat(socket).exists();
        assertThat(ControlClient.connect(socket)).as("nobody listening: no daemon").isEmpty();
        start(socket);
        assertThat(ControlClient.connect(socket)).isPresent();
        server.close();
        Path plain = Files.writeString(tmp.resolve("plain.sock"), "not a socket");
        assertThatThrownBy(() -> ControlServer.start(plain, new ControlAccess("rsu-tech"), "rsu-3", call -> { }))
                .isInstanceOf(AgentException.class).hasMessageContaining("exists and is not a socket");
        assertThat(ControlClient.connect(tmp.resolve("absent.sock"))).isEmpty();
        assertThatThrownBy(() -> ControlServer.start(tmp.resolve("no-run-dir/control.sock"), new ControlAccess("rsu-tech"), "rsu-4", call -> { }))
                .isInstanceOf(AgentException.class).hasMessageContaining("does not exist").hasMessageContaining("systemd-tmpfiles");
        assertThat(tmp.resolve("no-run-dir")).as("the package's directory is not made by the daemon").doesNotExist();
    }
}
