package rsuota.agent.control;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * One request on one control connection, seen by the daemon's handler: who asks, what, and the way
 * back. {@link #progress}, {@link #event} and {@link #data} may be sent any number of times, then
 * exactly one {@link #reply} (or a {@link ControlFailure} thrown by the handler). A client that went
 * away (Ctrl-C: detach) makes the sends fail with IOException; the action itself goes on.
 */
public final class Call {
    private final Peer peer;
    private final ControlProtocol.Request request;
    private final OutputStream out;
    private final java.util.function.BooleanSupplier serving;
    private boolean replied;

    Call(Peer peer, ControlProtocol.Request request, OutputStream out, java.util.function.BooleanSupplier serving) {
        this.peer = peer;
        this.request = request;
        this.out = out;
        this.serving = serving;
    }

    /** False once the daemon is stopping: a handler that follows the engine (watch, install) ends. */
    public boolean serving() {
        return serving.getAsBoolean();
    }

    public Peer peer() {
        return peer;
    }

    public ControlProtocol.Request request() {
        return request;
    }

    public void progress(Object progress) throws IOException {
        ObjectNode n = ControlProtocol.message("progress", request.id());
        n.set("progress", ControlProtocol.JSON.valueToTree(progress));
        send(n);
    }

    public void event(Object status) throws IOException {
        ObjectNode n = ControlProtocol.message("event", request.id());
        n.set("status", ControlProtocol.JSON.valueToTree(status));
        send(n);
    }

    public void data(byte[] bytes, int len) throws IOException {
        ObjectNode n = ControlProtocol.message("data", request.id());
        n.put("base64", Base64.getEncoder().encodeToString(len == bytes.length ? bytes : java.util.Arrays.copyOf(bytes, len)));
        send(n);
    }

    /** The final answer: human lines (what the CLI prints) and a result (what --json prints). */
    public void reply(List<String> lines, Object result) throws IOException {
        send(ControlProtocol.ok(request.id(), lines, result));
        replied = true;
    }

    boolean replied() {
        return replied;
    }

    synchronized void send(ObjectNode n) throws IOException {
        out.write((ControlProtocol.line(n) + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
