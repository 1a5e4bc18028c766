package rsuota.fleet.device;

import java.time.Clock;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import rsuota.fleet.audit.AuditLog;
import rsuota.fleet.domain.Device;
import rsuota.fleet.domain.DeviceRecord;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Millis;
import rsuota.fleet.domain.Names;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.store.Database;

/** Devices come in two ways: from their own state reports, and from an operator's inventory file. */
public final class DeviceRegistry {
    /** What an import did. */
    public record ImportResult(int imported, int created, int updated) {}

    private final Database db;
    private final AuditLog audit;
    private final Clock clock;

    public DeviceRegistry(Database db, AuditLog audit, Clock clock) {
        this.db = db;
        this.audit = audit;
        this.clock = clock;
    }

    /**
     * Upserts a device from its state report: placement as the device reports it, last_seen moved
     * forward to {@code seen}. Telemetry, not an operator action, so it is not audited.
     *
     * @throws FleetException INVALID_REQUEST naming the bad field; nothing is stored then
     */
    public Device registerFromState(String id, String variant, String region, String corridor, String site,
                                    Collection<String> tags, Instant seen) throws FleetException {
        DeviceRecord r = new DeviceRecord(id, variant, region, corridor, site, tags == null ? List.of() : List.copyOf(tags)).validated();
        Instant now = Millis.now(clock);
        return db.write(tx -> {
            tx.devices().upsert(r, seen, now);
            return tx.devices().find(r.id()).orElseThrow();
        });
    }

    /** Stores a device's latest state snapshot (JSON text); false when the device is not registered. */
    public boolean recordState(String id, String stateJson, Instant seen) throws FleetException {
        return db.write(tx -> tx.devices().updateReportedState(id, stateJson, seen));
    }

    /** Parses, validates and upserts a whole inventory in one transaction with one audit entry. */
    public ImportResult importInventory(Principal who, String content, InventoryFormat format, String reason) throws FleetException {
        List<DeviceRecord> records = InventoryParser.parse(content, format);
        Instant now = Millis.now(clock);
        return db.write(tx -> {
            int created = 0;
            for (DeviceRecord r : records) {
                if (tx.devices().find(r.id()).isEmpty()) created++;
                tx.devices().upsert(r, null, now);
            }
            ImportResult result = new ImportResult(records.size(), created, records.size() - created);
            audit.append(tx, who, "device.import", "devices", reason, Map.of("format", format.name().toLowerCase(java.util.Locale.ROOT),
                    "imported", result.imported(), "created", result.created(), "updated", result.updated(),
                    "devices", records.stream().map(DeviceRecord::id).toList()));
            return result;
        });
    }

    public List<Device> list() throws FleetException {
        return db.read(tx -> tx.devices().list());
    }

    /** A device with what the rollouts say of it (see {@code DeviceRepository.rolloutFlags}). */
    public record Listed(Device device, String deploymentState, List<String> flags) {}

    /** Devices scanned per query while a state filter looks for a page's worth of matches. */
    private static final int SCAN = 500;

    /**
     * A page of devices matching {@code q}, in id order, after {@code afterId}; {@code limit} rows at most.
     * {@code state} (null: any) keeps devices whose reported deployment state is {@code state}, or that a
     * rollout flags so ({@code needs_investigation}, {@code rollback_pending}).
     * A cohort filter naming no cohort is INVALID_REQUEST naming "cohort" (a typo must not look like an empty cohort).
     */
    public List<Listed> page(rsuota.fleet.store.DeviceRepository.Query q, String state, String afterId, int limit) throws FleetException {
        String want = state == null ? null : Names.requireName(state, "state");
        return db.read(tx -> {
            if (q.cohortId() != null && tx.cohorts().find(q.cohortId()).isEmpty()) {
                throw FleetException.invalid("cohort", "there is no cohort " + q.cohortId() + " (GET /api/v1/cohorts lists them)");
            }
            Map<String, List<String>> flags = tx.devices().rolloutFlags();
            List<Listed> out = new java.util.ArrayList<>();
            String cursor = afterId;
            while (out.size() < limit) {
                int batch = want == null ? limit - out.size() : SCAN;
                List<Device> rows = tx.devices().page(q, cursor, batch);
                for (Device d : rows) {
                    if (out.size() == limit) break;
                    List<String> f = flags.getOrDefault(d.id(), List.of());
                    String dep = deploymentState(d.reportedState());
                    if (want == null || want.equals(dep) || f.stream().anyMatch(x -> x.startsWith(want + ":"))) out.add(new Listed(d, dep, f));
                }
                if (rows.size() < batch) break;
                cursor = rows.get(rows.size() - 1).id();
            }
            return out;
        });
    }

    private static String deploymentState(String reported) {
        if (reported == null) return null;
        try {
            com.fasterxml.jackson.databind.JsonNode n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(reported);
            return n.path("deployment").path("state").asText(null);
        } catch (java.io.IOException e) {
            return null;
        }
    }

    public Device get(String id) throws FleetException {
        return db.read(tx -> tx.devices().find(id)).orElseThrow(() -> FleetException.notFound("no device '" + id + "'"));
    }

    /** A technician's hold on the unit (locked_by_technician, locally_managed), or null. */
    public rsuota.fleet.rollout.DeviceProgress.Local technicianHold(String id) throws FleetException {
        return db.read(tx -> new rsuota.fleet.rollout.RolloutRepository(tx).hold(id));
    }

    /** The unit's history: its events by seq after {@code afterSeq} (transitions, alerts, acks, a technician's local actions). */
    public java.util.List<rsuota.fleet.store.DeviceEventRepository.StoredEvent> history(String id, long afterSeq, int limit) throws FleetException {
        get(id);
        return db.read(tx -> tx.events().events(id, afterSeq, limit));
    }
}
