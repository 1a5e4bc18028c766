package rsuota.fleet.link;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.fleet.domain.Device;
import rsuota.fleet.domain.DeviceRecord;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Millis;
import rsuota.fleet.policy.DeviceKpis;
import rsuota.fleet.policy.PolicyJson;
import rsuota.fleet.policy.TelemetryWindow;
import rsuota.fleet.rollout.RolloutProgress;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.DeviceEventRepository;
import rsuota.fleet.store.Tx;
import rsuota.wire.MqttEvent;
import rsuota.wire.MqttPresence;
import rsuota.wire.MqttState;
import rsuota.wire.Topics;
import rsuota.wire.WireCodec;
import rsuota.wire.WireException;

/**
 * Turns device messages into store rows: devices register from their state, snapshots are kept,
 * events are stored once per (device, seq) with gaps counted, presence is tracked, command acks
 * are matched, and rollout progress and the rules' telemetry window are fed.
 *
 * <p>Work comes in batches (one write transaction each: at 10,000 devices every 10 s that is
 * tens of commits a second instead of a thousand). Every message is decoded and checked before
 * the transaction; a refused one is counted by reason and logged, never thrown. If a batch's
 * transaction fails, its messages are retried one by one so a single poisonous message costs
 * only itself.
 */
public final class TelemetryIngest {
    private static final Logger log = LoggerFactory.getLogger(TelemetryIngest.class);
    /** Log the first refusals of each reason, then one in this many: a misconfigured fleet must not flood the log. */
    private static final long LOG_EVERY = 1000;
    /** How long a batch waits for a store that answers STORE_BUSY before it is refused (a PostgreSQL restart takes seconds). */
    static final long STORE_RETRY_MS = 60_000;

    /**
     * One message as it came off the broker.
     *
     * @param sender the unit the broker authenticated as its publisher (the embedded broker's
     *               {@code rsuota-sender} stamp), or null when the broker does not say
     */
    public record Message(String topic, byte[] payload, String sender) {
        public Message(String topic, byte[] payload) {
            this(topic, payload, null);
        }
    }

    /** Why a message was refused (stable names, exported as metric labels). */
    public enum Refusal { BAD_TOPIC, UNKNOWN_LEAF, MALFORMED, DEVICE_MISMATCH, SENDER_MISMATCH, UNKNOWN_DEVICE, INVALID_IDENTITY, STORE }

    private final Database db;
    private final Clock clock;
    private final TelemetryWindow window;
    private final Map<String, DeviceRecord> known = new ConcurrentHashMap<>();
    private final Map<Refusal, LongAdder> refused = new ConcurrentHashMap<>();
    private final LongAdder states = new LongAdder();
    private final LongAdder events = new LongAdder();
    private final LongAdder duplicates = new LongAdder();
    private final LongAdder gaps = new LongAdder();
    private final LongAdder presences = new LongAdder();

    /** Records a unit's flag changes that its reports cause (needs_investigation set or cleared). */
    private final rsuota.fleet.audit.AuditLog audit;

    public TelemetryIngest(Database db, Clock clock, TelemetryWindow window) {
        this.db = db;
        this.clock = clock;
        this.window = window;
        this.audit = new rsuota.fleet.audit.AuditLog(clock);
    }

    /** Rebuilds the telemetry windows from the stored raw reports of the last hour (after a restart); returns the devices seeded. */
    public int hydrate() throws FleetException {
        List<Device> devices = db.read(tx -> tx.devices().list());
        for (Device d : devices) known.put(d.id(), d.record());
        // The sliding windows as they were: every raw report of the last hour, in order, with its receive time.
        Instant since = Millis.now(clock).minus(rsuota.fleet.store.KpiSampleRepository.RAW);
        List<rsuota.fleet.store.KpiSampleRepository.Sample> samples = db.read(tx -> tx.kpiSamples().rawSince(since));
        java.util.Set<String> seeded = new java.util.HashSet<>();
        for (var x : samples) {
            // Reports of one device in the same millisecond were merged into one row of n: replayed n times, the mean stays the same.
            DeviceKpis k = new DeviceKpis(x.availability(), x.lagMedianMs(), x.lagP95Ms(), x.droppedRatio());
            for (int i = 0; i < x.n(); i++) window.record(x.deviceId(), x.at(), k);
            seeded.add(x.deviceId());
        }
        return seeded.size();
    }

    /** Handles a batch; returns how many messages were accepted. */
    public int accept(List<Message> batch) {
        Instant now = Millis.now(clock);
        List<Decoded> ok = new ArrayList<>(batch.size());
        for (Message m : batch) {
            Decoded d = decode(m);
            if (d != null) ok.add(d);
        }
        if (ok.isEmpty()) return 0;
        // By device (each device's messages keep their order): replicas writing beside each other take the
        // devices' row locks in one order and so never deadlock on them.
        ok.sort(java.util.Comparator.comparing(Decoded::deviceId));
        List<Runnable> after = new ArrayList<>();
        try {
            writeRetrying(ok, now, after);
        } catch (FleetException e) {
            if (ok.size() == 1) {
                refuse(Refusal.STORE, ok.get(0).topic, e.getMessage());
                return 0;
            }
            log.warn("ingest batch of {} failed ({}); retrying one by one", ok.size(), e.getMessage());
            int n = 0;
            for (Decoded d : ok) n += accept(List.of(d.message));
            return n;
        }
        after.forEach(Runnable::run);
        return ok.size();
    }

    /**
     * Writes the batch; while the store says "retry" (STORE_BUSY: a PostgreSQL restart or failover, another
     * writer holding the lock) the batch waits and is written again, up to {@link #STORE_RETRY_MS}. Waiting
     * here is backpressure: the link's inbound queue fills, Paho stops reading and the broker keeps the rest,
     * so a store outage shorter than that loses no message.
     */
    private void writeRetrying(List<Decoded> ok, Instant now, List<Runnable> after) throws FleetException {
        long waited = 0;
        long pause = 100;
        for (int attempt = 1; ; attempt++) {
            try {
                db.ingest(tx -> {
                    // The store may run this twice (again inside its write order): only the last run's effects count.
                    after.clear();
                    for (Decoded d : ok) apply(tx, d, now, after);
                    return null;
                });
                if (attempt > 1) log.info("ingest: store answered again after {} ms; batch of {} written", waited, ok.size());
                return;
            } catch (FleetException e) {
                after.clear();
                if (!e.code().retryable() || waited >= STORE_RETRY_MS) throw e;
                if (attempt == 1) log.warn("ingest: store busy or unreachable ({}); holding a batch of {} and retrying", e.getMessage(), ok.size());
                try {
                    Thread.sleep(pause);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                waited += pause;
                pause = Math.min(pause * 2, 2_000);
            }
        }
    }

    public Map<String, Long> counters() {
        Map<String, Long> m = new TreeMap<>();
        m.put("state", states.sum());
        m.put("events", events.sum());
        m.put("duplicates", duplicates.sum());
        m.put("gaps", gaps.sum());
        m.put("presence", presences.sum());
        return m;
    }

    public Map<Refusal, Long> refusals() {
        Map<Refusal, Long> m = new TreeMap<>();
        refused.forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }

    private record Decoded(Message message, String topic, String deviceId, Object value) {}

    private Decoded decode(Message m) {
        Topics.DeviceTopic t = Topics.parse(m.topic());
        if (t == null) {
            refuse(Refusal.BAD_TOPIC, m.topic(), "not rsu/v1/dev/ID/LEAF with a valid device id");
            return null;
        }
        if (m.sender() != null && !m.sender().equals(t.deviceId())) {
            // The broker's permissions stop this already; a unit speaking for another must never reach a KPI window.
            refuse(Refusal.SENDER_MISMATCH, m.topic(), "published by unit " + m.sender());
            return null;
        }
        try {
            Object v;
            switch (t.leaf()) {
                case "state" -> {
                    MqttState s = WireCodec.decode(m.payload(), MqttState.class);
                    if (!s.deviceId().equals(t.deviceId())) {
                        refuse(Refusal.DEVICE_MISMATCH, m.topic(), "payload says device " + s.deviceId());
                        return null;
                    }
                    if (s.identity() != null) {
                        try {
                            identity(t.deviceId(), s.identity());
                        } catch (FleetException e) {
                            refuse(Refusal.INVALID_IDENTITY, m.topic(), e.getMessage());
                            return null;
                        }
                    }
                    v = s;
                }
                case "events" -> {
                    MqttEvent e = WireCodec.decode(m.payload(), MqttEvent.class);
                    if (!e.deviceId().equals(t.deviceId())) {
                        refuse(Refusal.DEVICE_MISMATCH, m.topic(), "payload says device " + e.deviceId());
                        return null;
                    }
                    v = e;
                }
                case "presence" -> v = WireCodec.decode(m.payload(), MqttPresence.class);
                default -> {
                    refuse(Refusal.UNKNOWN_LEAF, m.topic(), "the controller does not read '" + t.leaf() + "'");
                    return null;
                }
            }
            return new Decoded(m, m.topic(), t.deviceId(), v);
        } catch (WireException e) {
            refuse(Refusal.MALFORMED, m.topic(), e.code() + ": " + e.getMessage());
            return null;
        }
    }

    private void apply(Tx tx, Decoded d, Instant now, List<Runnable> after) throws SQLException, FleetException {
        if (d.value instanceof MqttState s) {
            DeviceRecord wanted = s.identity() == null ? null : identity(d.deviceId, s.identity());
            DeviceRecord have = known.get(d.deviceId);
            if (wanted != null && !wanted.equals(have)) {
                tx.devices().upsert(wanted, now, now);
                after.add(() -> known.put(d.deviceId, wanted));
            } else if (have == null && tx.devices().find(d.deviceId).isEmpty()) {
                refuse(Refusal.UNKNOWN_DEVICE, d.topic, "state without identity from a device the controller does not know");
                return;
            }
            tx.devices().updateReportedState(d.deviceId, new String(d.message.payload(), StandardCharsets.UTF_8), now);
            MqttState.Deployment dep = s.deployment();
            String reason = s.lastError() == null ? null : s.lastError().code();
            if (dep != null) RolloutProgress.onReport(tx, audit, d.deviceId, dep.state(), dep.release(), reason, dep.rev(), now);
            else RolloutProgress.onReport(tx, audit, d.deviceId, null, null, null, null, now);
            if (s.kpis() != null) {
                DeviceKpis k = kpis(s.kpis());
                // Stored with the report, in the same transaction: the windows survive a restart (hydrate) and the gate
                // judges the whole observation window from the store.
                tx.kpiSamples().record(d.deviceId, now, k.availability(), k.lagMedianMs(), k.lagP95Ms(), k.droppedRatio());
                after.add(() -> window.record(d.deviceId, now, k));
            }
            after.add(states::increment);
        } else if (d.value instanceof MqttEvent e) {
            DeviceEventRepository.Stored st = tx.events().insert(new DeviceEventRepository.StoredEvent(d.deviceId, e.seq(), e.at(), now,
                    e.type(), e.state(), e.release(), e.reason(), PolicyJson.write(e.detail())));
            if (st.duplicate()) {
                after.add(duplicates::increment);
                return;
            }
            if (st.skipped() > 0) {
                after.add(() -> gaps.add(st.skipped()));
                log.warn("device {}: event seq {} arrived with {} earlier seq number(s) not seen (a re-send may still fill them)",
                        d.deviceId, e.seq(), st.skipped());
            }
            if (MqttEvent.LOCAL_ACTION.equals(e.type())) {
                // kept in the unit's history (above); the policy's holds and the audit log from here
                RolloutProgress.onLocalAction(tx, audit, d.deviceId, e.detail().get("action"), e.detail().get("actor"), e.detail().get("reason"),
                        e.detail(), e.at(), now);
            } else if ("cmd_ack".equals(e.type())) {
                String cmd = e.detail().get("commandId");
                if (cmd != null) tx.commands().acked(cmd, d.deviceId, e.detail().getOrDefault("result", e.state()), now);
            } else {
                RolloutProgress.onReport(tx, audit, d.deviceId, e.state(), e.release(), e.reason(), null, now);
            }
            after.add(events::increment);
        } else if (d.value instanceof MqttPresence p) {
            tx.events().presence(d.deviceId, p.status(), now);
            boolean online = MqttPresence.ONLINE.equals(p.status());
            after.add(() -> window.presence(d.deviceId, online, now));
            after.add(presences::increment);
        }
    }

    private static DeviceRecord identity(String id, MqttState.Identity i) throws FleetException {
        return new DeviceRecord(id, i.variant(), i.region(), i.corridor(), i.site(), i.tags()).validated();
    }

    private static DeviceKpis kpis(MqttState.Kpis k) {
        return new DeviceKpis(k.availability(), k.lagMedianMs(), k.lagP95Ms(), k.droppedRatio());
    }

    private void refuse(Refusal why, String topic, String detail) {
        LongAdder a = refused.computeIfAbsent(why, k -> new LongAdder());
        a.increment();
        long n = a.sum();
        if (n <= 10 || n % LOG_EVERY == 0) {
            log.warn("refused MQTT message on {}: {}: {} ({} refused for this reason so far)", topic, why, detail, n);
        }
    }
}
