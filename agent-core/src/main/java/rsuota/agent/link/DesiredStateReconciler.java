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
 *   <li>the last accepted rev is persisted ({@value #REV_FILE}) so a restart does not re-run an
 *       old order.</li>
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

    /** Reads the last accepted rev from {@code stateDir}. */
    public DesiredStateReconciler(String deviceId, Path stateDir, DesiredStateListener listener) throws IOException {
        Topics.desired(deviceId); // validates the id
        this.deviceId = deviceId;
        this.listener = listener;
        Files.createDirectories(stateDir);
        this.revFile = stateDir.resolve(REV_FILE);
        // Only our own leftover: the state directory is shared with the engine's files.
        Files.deleteIfExists(stateDir.resolve(REV_FILE + DurableFiles.TMP_SUFFIX));
        this.lastRev = readRev();
    }

    /** Subscribes to this device's desired topic (renewed by the link after every reconnect). */
    public void attach(MqttLink link) {
        link.subscribe(Topics.desired(deviceId), this::onMessage);
    }

    public long lastAcceptedRev() {
        return lastRev;
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
        try {
            DurableFiles.writeAtomically(revFile, ("rev=" + d.rev() + "\n").getBytes(StandardCharsets.US_ASCII), true);
        } catch (IOException e) {
            // In memory the rev is accepted; after a restart the engine sees it once more.
            LOG.error("desired {}: REV_NOT_PERSISTED: rev {}: {}", deviceId, d.rev(), e.toString());
        }
    }

    private long readRev() throws IOException {
        if (!Files.exists(revFile)) return 0;
        String text = Files.readString(revFile, StandardCharsets.US_ASCII).strip();
        try {
            if (text.startsWith("rev=")) return Long.parseLong(text.substring(4));
        } catch (NumberFormatException e) {
            // fall through
        }
        // Starting from 0 re-delivers the retained order once: the safe direction.
        LOG.error("desired {}: REV_STATE_CORRUPT: {} holds '{}'; accepting the next desired state", deviceId, revFile, text);
        return 0;
    }
}
