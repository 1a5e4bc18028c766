package rsuota.agent.link;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;
import rsuota.agent.report.EventSink;
import rsuota.wire.MqttCommand;
import rsuota.wire.Topics;
import rsuota.wire.WireCodec;
import rsuota.wire.WireException;

/**
 * Runs one-off commands from the {@code cmd} topic, at most once each, and acknowledges every
 * decision as a {@code cmd_ack} event through the outbox:
 * <ul>
 *   <li>undecodable payloads (malformed, oversized, wrong schema or types) are logged with their
 *       reason and dropped: without a trustworthy id there is nothing to acknowledge;</li>
 *   <li>{@code expiresAt} not after now (the injected {@link Clock}): state {@code refused},
 *       reason {@link #EXPIRED};</li>
 *   <li>an id seen before (persisted, the newest {@link #DEFAULT_SEEN_CAPACITY}): {@code refused},
 *       {@link #ALREADY_SEEN};</li>
 *   <li>more than {@value #QUEUE} commands waiting: {@code refused}, {@link #BUSY} (not recorded
 *       as seen, so the controller may send the same id again);</li>
 *   <li>otherwise the id is recorded (fsync'd) before the command runs, then {@code accepted},
 *       and, from the {@link CommandHandler} on the dispatcher's own thread, {@code done} with its
 *       result details or {@code failed} with its reason code.</li>
 * </ul>
 * Commands run one at a time on a worker thread, so a long diagnostics upload never holds up the
 * link's inbound thread (and with it desired-state changes).
 */
public final class CommandDispatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CommandDispatcher.class);

    public static final String SEEN_FILE = "commands.seen";
    /** Ids remembered for replay refusal; beyond that, expiry protects (commands live minutes). */
    public static final int DEFAULT_SEEN_CAPACITY = 1024;
    /** Commands are rare; a queue longer than this is a controller loop, not a workload. */
    public static final int QUEUE = 16;

    public static final String TYPE = "cmd_ack";
    public static final String ACCEPTED = "accepted";
    public static final String DONE = "done";
    public static final String FAILED = "failed";
    public static final String REFUSED = "refused";
    public static final String EXPIRED = AgentError.EXPIRED.wire();
    public static final String ALREADY_SEEN = AgentError.ALREADY_SEEN.wire();
    public static final String BUSY = AgentError.BUSY.wire();
    /** The handler threw an unchecked exception: a bug, reported instead of crashing. */
    public static final String HANDLER_CRASHED = AgentError.HANDLER_CRASHED.wire();
    public static final String CMD_ID = "commandId";
    public static final String CMD_TYPE = "commandType";
    public static final String MESSAGE = "message";

    private final String deviceId;
    private final EventSink events;
    private final CommandHandler handler;
    private final Clock clock;
    private final SeenCommandIds seen;
    private final ThreadPoolExecutor worker;
    private final AtomicLong refusedMalformed = new AtomicLong();
    private final AtomicLong refusedOther = new AtomicLong();
    private final AtomicLong accepted = new AtomicLong();

    public CommandDispatcher(String deviceId, Path stateDir, EventSink events, CommandHandler handler, Clock clock) throws IOException {
        this(deviceId, stateDir, events, handler, clock, DEFAULT_SEEN_CAPACITY);
    }

    public CommandDispatcher(String deviceId, Path stateDir, EventSink events, CommandHandler handler, Clock clock,
                             int seenCapacity) throws IOException {
        Topics.cmd(deviceId); // validates the id
        this.deviceId = deviceId;
        this.events = events;
        this.handler = handler;
        this.clock = clock;
        Files.createDirectories(stateDir);
        this.seen = new SeenCommandIds(stateDir.resolve(SEEN_FILE), seenCapacity);
        this.worker = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(QUEUE), r -> {
            Thread t = new Thread(r, "commands-" + deviceId);
            t.setDaemon(true);
            return t;
        });
    }

    /** Subscribes to this device's cmd topic (renewed by the link after every reconnect). */
    public void attach(MqttLink link) {
        link.subscribe(Topics.cmd(deviceId), this::onMessage);
    }

    /** Payloads refused before any id could be trusted. */
    public long refusedMalformedCount() {
        return refusedMalformed.get();
    }

    /** Well-formed commands refused (expired, replayed, busy). */
    public long refusedCount() {
        return refusedOther.get();
    }

    public long acceptedCount() {
        return accepted.get();
    }

    /** Handles one message of the cmd topic; runs on the link's inbound thread. */
    void onMessage(String topic, byte[] payload, boolean retained) {
        MqttCommand c;
        try {
            c = WireCodec.decode(payload, MqttCommand.class);
        } catch (WireException e) {
            refusedMalformed.incrementAndGet();
            LOG.warn("cmd {}: refused {} ({} bytes): {}", deviceId, e.code(), payload.length, e.getMessage());
            return;
        }
        if (!c.expiresAt().isAfter(clock.instant())) {
            refuse(c, EXPIRED, "expired at " + c.expiresAt());
            return;
        }
        if (seen.contains(c.id())) {
            refuse(c, ALREADY_SEEN, "command id already received; commands run at most once");
            return;
        }
        if (worker.getQueue().remainingCapacity() == 0) {
            refuse(c, BUSY, QUEUE + " commands are waiting");
            return;
        }
        try {
            // Recorded before it runs: a crash mid-command must not run it a second time.
            seen.add(c.id());
        } catch (IOException e) {
            refuse(c, "STATE_NOT_WRITTEN", "cannot record the command id: " + e.getMessage());
            return;
        }
        accepted.incrementAndGet();
        ack(c, ACCEPTED, null, Map.of());
        try {
            worker.execute(() -> run(c));
        } catch (RejectedExecutionException e) {
            ack(c, FAILED, BUSY, Map.of(MESSAGE, "dispatcher is shutting down"));
        }
    }

    private void run(MqttCommand c) {
        LOG.info("cmd {}: running {} {}", deviceId, c.type(), c.id());
        try {
            Map<String, String> result = handler.handle(c);
            ack(c, DONE, null, result == null ? Map.of() : result);
        } catch (AgentException e) {
            LOG.warn("cmd {}: {} {} failed: {}: {}", deviceId, c.type(), c.id(), e.wireCode(), e.detail());
            ack(c, FAILED, e.wireCode(), Map.of(MESSAGE, truncate(String.valueOf(e.detail()))));
        } catch (RuntimeException e) {
            // The handler's bug is reported on events instead of killing the worker thread.
            LOG.error("cmd {}: {}: {} {}", deviceId, HANDLER_CRASHED, c.type(), c.id(), e);
            ack(c, FAILED, HANDLER_CRASHED, Map.of(MESSAGE, truncate(e.toString())));
        }
    }

    private void refuse(MqttCommand c, String reason, String message) {
        refusedOther.incrementAndGet();
        LOG.warn("cmd {}: refused {} {}: {}: {}", deviceId, c.type(), c.id(), reason, message);
        ack(c, REFUSED, reason, Map.of(MESSAGE, message));
    }

    private void ack(MqttCommand c, String state, String reason, Map<String, String> extra) {
        Map<String, String> detail = new HashMap<>(extra);
        detail.put(CMD_ID, c.id());
        detail.put(CMD_TYPE, truncate(c.type()));
        try {
            events.emit(new EventSink.Draft(TYPE, state, null, reason, detail));
        } catch (IOException e) {
            LOG.error("cmd {}: ACK_NOT_RECORDED: {} {} for {}: {}", deviceId, state, reason, c.id(), e.toString());
        }
    }

    private static String truncate(String s) {
        return s.length() > 512 ? s.substring(0, 512) + "..." : s;
    }

    /** Stops the worker; a running command is interrupted. */
    @Override
    public void close() {
        worker.shutdownNow();
    }
}
