package rsuota.fleet.link;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Millis;
import rsuota.fleet.store.CommandRepository;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.DesiredStateRepository;
import rsuota.wire.Topics;

/**
 * Publishes what the store says devices should have: retained desired states not yet confirmed,
 * and commands not yet sent and not expired. It is an outbox: the store is written first, this
 * publishes after, and a row is marked only on PUBACK, so a crash or a broker outage delays a
 * message but never loses it. After every (re)connect it re-publishes all desired states, since
 * a broker without persistence forgets retained messages when it restarts.
 */
public final class DesiredStatePublisher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DesiredStatePublisher.class);
    /** Rows per round; the transport's window paces the actual sends. */
    static final int BATCH = 500;
    /** Longest wait for a round's PUBACKs before they are retried next round. */
    private static final long ACK_WAIT_MS = 10_000;
    /** Retry pace when nothing wakes the publisher (e.g. the broker was down). */
    private static final long IDLE_MS = 2_000;

    private final Database db;
    private final Clock clock;
    private final Transport transport;
    private final Object signal = new Object();
    private final AtomicBoolean kicked = new AtomicBoolean();
    private final AtomicBoolean republish = new AtomicBoolean();
    private final AtomicLong desiredPublished = new AtomicLong();
    private final AtomicLong commandsPublished = new AtomicLong();
    private volatile boolean stopped;
    private Thread thread;

    public DesiredStatePublisher(Database db, Clock clock, Transport transport) {
        this.db = db;
        this.clock = clock;
        this.transport = transport;
    }

    public synchronized void start() {
        if (thread != null) return;
        thread = new Thread(this::run, "desired-publisher");
        thread.setDaemon(true);
        thread.start();
    }

    /** Something was written: publish soon. */
    public void kick() {
        kicked.set(true);
        synchronized (signal) {
            signal.notifyAll();
        }
    }

    /** The broker may have lost retained messages: publish every desired state again. */
    public void republishAll() {
        republish.set(true);
        kick();
    }

    public long desiredPublished() {
        return desiredPublished.get();
    }

    public long commandsPublished() {
        return commandsPublished.get();
    }

    /**
     * One round: pending desired states and commands (and everything, after a reconnect). Returns
     * how many messages were confirmed. Public for tests, which drive it beside the thread; rounds never overlap,
     * so a row is not sent twice by two rounds at once.
     */
    public synchronized int publishOnce() throws FleetException {
        if (!transport.connected()) return 0;
        int n = 0;
        if (republish.getAndSet(false)) {
            String after = "";
            while (true) {
                String from = after;
                List<DesiredStateRepository.Desired> page = db.read(tx -> tx.desired().page(from, BATCH));
                if (page.isEmpty()) break;
                n += sendDesired(page);
                after = page.get(page.size() - 1).deviceId();
            }
        }
        while (true) {
            List<DesiredStateRepository.Desired> pending = db.read(tx -> tx.desired().pending(BATCH));
            if (pending.isEmpty()) break;
            int sent = sendDesired(pending);
            n += sent;
            if (sent < pending.size()) break;
        }
        Instant now = Millis.now(clock);
        List<CommandRepository.Command> cmds = db.read(tx -> tx.commands().unpublished(now, BATCH));
        if (!cmds.isEmpty()) n += sendCommands(cmds);
        return n;
    }

    private int sendDesired(List<DesiredStateRepository.Desired> rows) throws FleetException {
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        for (DesiredStateRepository.Desired d : rows) {
            futures.add(transport.publish(Topics.desired(d.deviceId()), d.payload().getBytes(StandardCharsets.UTF_8), true));
        }
        List<DesiredStateRepository.Desired> confirmed = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) if (await(futures.get(i), rows.get(i).deviceId())) confirmed.add(rows.get(i));
        if (!confirmed.isEmpty()) {
            // Beside telemetry ingest (the unit's own row, a monotonic mark): a 100,000-unit wave's confirmations do not queue
            // behind, or hold up, the store-wide write order.
            db.ingest(tx -> {
                tx.desired().published(confirmed);
                return null;
            });
        }
        desiredPublished.addAndGet(confirmed.size());
        return confirmed.size();
    }

    private int sendCommands(List<CommandRepository.Command> cmds) throws FleetException {
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        for (CommandRepository.Command c : cmds) {
            futures.add(transport.publish(Topics.cmd(c.deviceId()), c.payload().getBytes(StandardCharsets.UTF_8), false));
        }
        List<String> confirmed = new ArrayList<>();
        for (int i = 0; i < cmds.size(); i++) if (await(futures.get(i), cmds.get(i).deviceId())) confirmed.add(cmds.get(i).id());
        Instant now = Millis.now(clock);
        if (!confirmed.isEmpty()) {
            db.write(tx -> {
                for (String id : confirmed) tx.commands().published(id, now);
                return null;
            });
        }
        commandsPublished.addAndGet(confirmed.size());
        return confirmed.size();
    }

    private static boolean await(CompletableFuture<Void> f, String device) {
        try {
            f.get(ACK_WAIT_MS, TimeUnit.MILLISECONDS);
            return true;
        } catch (ExecutionException | TimeoutException e) {
            log.debug("publish to {} not confirmed, retried next round: {}", device, e.getMessage());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void run() {
        while (!stopped) {
            try {
                kicked.set(false);
                publishOnce();
            } catch (FleetException | RuntimeException e) {
                // The loop is the outbox's only driver: report and keep going (rows stay pending).
                log.error("desired-state publisher round failed: {}", e.getMessage(), e);
            }
            synchronized (signal) {
                if (!kicked.get() && !stopped) {
                    try {
                        signal.wait(IDLE_MS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        stopped = true;
        kick();
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            try {
                t.join(ACK_WAIT_MS + 1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
