package rsuota.agent.link;

import rsuota.hal.storage.DurableFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.wire.MqttDesiredState;
import rsuota.wire.Topics;
import rsuota.wire.WireCodec;
import rsuota.wire.WireException;

/**
 * Turns the retained {@code desired} topic into calls of the {@link DesiredStateListener}:
 * <ul>
 *   <li>every payload is decoded strictly ({@link WireCodec}); anything refused is logged with
 *       its reason code and never reaches the listener;</li>
 *   <li>the newest {@code rev} wins: a rev not above the last accepted one (the broker re-sends
 *       the retained message on every resubscription; an old controller may publish late) is
 *       ignored and logged;</li>
 *   <li>an order whose {@code fencingToken} is below the highest one accepted is refused as
 *       {@code STALE_LEADER} whatever its rev: it comes from a controller replica that has since
 *       been deposed (docs/architecture.md, "Replicas and the leader lease"). Orders without a
 *       token (a sole controller) are judged by rev alone;</li>
 *   <li>the last accepted rev and the highest accepted token are persisted ({@value #REV_FILE}) so
 *       a restart does not re-run an old order or forget the fence.</li>
 * </ul>
 * The rev is persisted after the listener returned: a crash in between hands the same rev to the
 * listener again after the restart (at least once; the engine treats a rev it already journaled
 * as a no-op). Persisting first could lose the order for good. A listener that throws is logged
 * and its rev is not recorded, so the retained message retries it on the next reconnect.
 */
public final class DesiredStateReconciler {

    private static final Logger LOG = LoggerFactory.getLogger(DesiredStateReconciler.class);

    public static final String REV_FILE = "desired.rev";

    private final String deviceId;
    private final Path revFile;
    private final DesiredStateListener listener;
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong ignored = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private volatile long lastRev;
    private volatile long lastFence;

    /** Reads the last accepted rev from {@code stateDir}. */
    public DesiredStateReconciler(String deviceId, Path stateDir, DesiredStateListener listener) throws IOException {
        Topics.desired(deviceId); // validates the id
        this.deviceId = deviceId;
        this.listener = listener;
        Files.createDirectories(stateDir);
        this.revFile = stateDir.resolve(REV_FILE);
        // Only our own leftover: the state directory is shared with the engine's files.
        Files.deleteIfExists(stateDir.resolve(REV_FILE + DurableFiles.TMP_SUFFIX));
        long[] persisted = readRev();
        this.lastRev = persisted[0];
        this.lastFence = persisted[1];
    }

    /** Subscribes to this device's desired topic (renewed by the link after every reconnect). */
    public void attach(MqttLink link) {
        link.subscribe(Topics.desired(deviceId), this::onMessage);
    }

    public long lastAcceptedRev() {
        return lastRev;
    }

    /** The highest fencing token accepted (0: none yet, or only orders from a sole controller). */
    public long highestFencingToken() {
        return lastFence;
    }

    public long acceptedCount() {
        return accepted.get();
    }

    public long ignoredCount() {
        return ignored.get();
    }

    public long refusedCount() {
        return refused.get();
    }

    /** Handles one message of the desired topic; runs on the link's inbound thread. */
    void onMessage(String topic, byte[] payload, boolean retained) {
        MqttDesiredState d;
        try {
            d = WireCodec.decode(payload, MqttDesiredState.class);
        } catch (WireException e) {
            refused.incrementAndGet();
            LOG.warn("desired {}: refused {} ({} bytes, retained={}): {}", deviceId, e.code(), payload.length, retained, e.getMessage());
            return;
        }
        if (d.fencingToken() != null && d.fencingToken() < lastFence) {
            refused.incrementAndGet();
            LOG.warn("desired {}: refused STALE_LEADER: rev {} carries fencing token {} but an order with token {} was accepted; "
                    + "it comes from a deposed controller replica (retained={})", deviceId, d.rev(), d.fencingToken(), lastFence, retained);
            return;
        }
        if (d.rev() <= lastRev) {
            ignored.incrementAndGet();
            if (d.rev() == lastRev) LOG.debug("desired {}: rev {} repeated (retained={}), ignored", deviceId, d.rev(), retained);
            else LOG.info("desired {}: rev {} is older than accepted rev {}, ignored", deviceId, d.rev(), lastRev);
            return;
        }
        LOG.info("desired {}: rev {} accepted: {} {}", deviceId, d.rev(), d.action(), d.release());
        try {
            listener.onDesired(d);
        } catch (RuntimeException e) {
            // Not recorded: the retained message hands it over again after the next reconnect.
            LOG.error("desired {}: LISTENER_FAILED on rev {}; not recorded, retried on reconnect", deviceId, d.rev(), e);
            return;
        }
        accepted.incrementAndGet();
        lastRev = d.rev();
        if (d.fencingToken() != null) lastFence = Math.max(lastFence, d.fencingToken());
        try {
            DurableFiles.writeAtomically(revFile, ("rev=" + d.rev() + "\n" + (lastFence > 0 ? "fence=" + lastFence + "\n" : ""))
                    .getBytes(StandardCharsets.US_ASCII), true);
        } catch (IOException e) {
            // In memory the rev is accepted; after a restart the engine sees it once more.
            LOG.error("desired {}: REV_NOT_PERSISTED: rev {}: {}", deviceId, d.rev(), e.toString());
        }
    }

    /** {rev, fence} as persisted; a file without a fence line (older agents, sole controller) has fence 0. */
    private long[] readRev() throws IOException {
        if (!Files.exists(revFile)) return new long[] {0, 0};
        String text = Files.readString(revFile, StandardCharsets.US_ASCII).strip();
        long rev = -1;
        long fence = 0;
        boolean bad = false;
        try {
            for (String line : text.split("\n")) {
                if (line.startsWith("rev=")) rev = Long.parseLong(line.substring(4).strip());
                else if (line.startsWith("fence=")) fence = Long.parseLong(line.substring(6).strip());
                else bad = true;
            }
        } catch (NumberFormatException e) {
            bad = true;
        }
        if (!bad && rev >= 0 && fence >= 0) return new long[] {rev, fence};
        // Starting from 0 re-delivers the retained order once: the safe direction. The fence is lost with it: a
        // deposed replica's late order could be taken once more, as before fencing.
        LOG.error("desired {}: REV_STATE_CORRUPT: {} holds '{}'; accepting the next desired state", deviceId, revFile, text);
        return new long[] {0, 0};
    }
}
