package rsuota.fleet.cohort;

import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import rsuota.fleet.audit.AuditLog;
import rsuota.fleet.domain.Cohort;
import rsuota.fleet.domain.CohortFilter;
import rsuota.fleet.domain.CohortKind;
import rsuota.fleet.domain.CohortMember;
import rsuota.fleet.domain.CohortResolution;
import rsuota.fleet.domain.Device;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.Exclusion;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Millis;
import rsuota.fleet.domain.Names;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Release;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.Tx;

/**
 * Cohorts of a release, and the variant matrix at the point where devices join them: a device the
 * release does not support is refused when named explicitly, and reported as blocked when a filter
 * matches it. Never skipped silently.
 */
public final class Cohorts {
    /** Largest size cap accepted: far above any real wave, low enough to catch a typo. */
    static final int MAX_SIZE_CAP = 1_000_000;

    /**
     * A request to create a cohort: members either listed explicitly or drawn by a filter (or
     * neither: an empty cohort filled later with {@link #addMembers}).
     */
    public record NewCohort(String release, String name, CohortKind kind, CohortFilter filter, Integer sizeCap,
                            List<String> members, String reason) {}

    /** A created cohort, its members, and the devices its filter matched but left out. */
    public record Created(Cohort cohort, List<String> members, List<Exclusion> excluded) {}

    /** What an add did: devices that joined, and those that were members already. */
    public record Added(Cohort cohort, List<String> added, List<String> alreadyMembers) {}

    /** A cohort with its members. */
    public record Detail(Cohort cohort, List<CohortMember> members) {}

    private final Database db;
    private final AuditLog audit;
    private final Clock clock;

    public Cohorts(Database db, AuditLog audit, Clock clock) {
        this.db = db;
        this.audit = audit;
        this.clock = clock;
    }

    /** Creates a cohort (audited as cohort.create, with its members). */
    public Created create(Principal who, NewCohort req) throws FleetException {
        String release = Names.requireName(req.release(), "release");
        String name = Names.requireName(req.name(), "name");
        if (req.kind() == null) throw FleetException.invalid("kind", "is required (canary, pilot or wave)");
        String reason = Names.optionalText(req.reason(), "reason");
        CohortFilter filter = req.filter() == null ? null : req.filter().validated();
        Integer cap = req.sizeCap();
        if (cap != null && (cap < 1 || cap > MAX_SIZE_CAP)) throw FleetException.invalid("sizeCap", "must be 1.." + MAX_SIZE_CAP);
        List<String> explicit = req.members() == null ? List.of() : distinct(req.members());
        if (filter != null && !explicit.isEmpty()) {
            throw FleetException.invalid("members", "give either members or a filter, not both");
        }
        Instant now = Millis.now(clock);
        Created created = db.write(tx -> {
            Release r = release(tx, release);
            Optional<Cohort> taken = tx.cohorts().findByName(release, name);
            if (taken.isPresent()) {
                throw new FleetException(ErrorCode.ALREADY_EXISTS, "release " + release + " already has a cohort named '" + name
                        + "' (id " + taken.get().id() + ")", Map.of("cohortId", taken.get().id()));
            }
            List<String> members;
            List<Exclusion> excluded;
            if (filter != null) {
                CohortResolution res = resolve(tx, r, filter, cap);
                members = res.members();
                excluded = res.excluded();
            } else {
                if (cap != null && explicit.size() > cap) {
                    throw new FleetException(ErrorCode.COHORT_FULL, explicit.size() + " members listed but the size cap is " + cap,
                            Map.of("sizeCap", cap));
                }
                checkJoinable(tx, r, explicit);
                members = explicit;
                excluded = List.of();
            }
            Cohort c = tx.cohorts().insert(release, name, req.kind(), filter, cap, now, who.label());
            tx.cohorts().addMembers(c.id(), release, members, now);
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("release", release);
            detail.put("name", name);
            detail.put("kind", req.kind().wire());
            if (cap != null) detail.put("sizeCap", cap);
            if (filter != null) detail.put("filter", filterMap(filter));
            detail.put("members", members);
            if (!excluded.isEmpty()) detail.put("excluded", excluded.stream().map(e -> e.deviceId() + ":" + e.code()).toList());
            audit.append(tx, who, "cohort.create", "cohort:" + c.id(), reason, detail);
            return new Created(tx.cohorts().find(c.id()).orElseThrow(), members, excluded);
        });
        db.bulkChanged(rsuota.fleet.store.Table.COHORT_MEMBERS);
        return created;
    }

    /**
     * Adds devices to a cohort (audited as cohort.members.add). All or nothing: an unknown device,
     * an incompatible variant, membership of another cohort of the release, or the size cap refuses
     * the whole call. Devices already in this cohort are reported, not refused, so a retry is safe.
     */
    public Added addMembers(Principal who, long cohortId, List<String> deviceIds, String reason) throws FleetException {
        if (deviceIds == null || deviceIds.isEmpty()) throw FleetException.invalid("devices", "list at least one device");
        List<String> ids = distinct(deviceIds);
        String why = Names.optionalText(reason, "reason");
        Instant now = Millis.now(clock);
        Added added = db.write(tx -> {
            Cohort c = tx.cohorts().find(cohortId).orElseThrow(() -> FleetException.notFound("no cohort " + cohortId));
            Release r = release(tx, c.release());
            List<String> already = new ArrayList<>();
            List<String> fresh = new ArrayList<>();
            for (String id : ids) {
                Optional<Cohort> holder = tx.cohorts().cohortOf(c.release(), id);
                if (holder.isPresent() && holder.get().id() == c.id()) already.add(id);
                else fresh.add(id);
            }
            checkJoinable(tx, r, fresh);
            if (c.sizeCap() != null && c.memberCount() + fresh.size() > c.sizeCap()) {
                throw new FleetException(ErrorCode.COHORT_FULL, "cohort " + c.id() + " (" + c.name() + ") has " + c.memberCount()
                        + " of at most " + c.sizeCap() + " members; adding " + fresh.size() + " would exceed the cap",
                        Map.of("cohortId", c.id(), "sizeCap", c.sizeCap(), "members", c.memberCount()));
            }
            tx.cohorts().addMembers(c.id(), c.release(), fresh, now);
            audit.append(tx, who, "cohort.members.add", "cohort:" + c.id(), why,
                    Map.of("release", c.release(), "added", fresh, "alreadyMembers", already));
            return new Added(tx.cohorts().find(c.id()).orElseThrow(), fresh, already);
        });
        db.bulkChanged(rsuota.fleet.store.Table.COHORT_MEMBERS);
        return added;
    }

    /** What {@code filter} with {@code sizeCap} would select for {@code release} now, without changing anything. */
    public CohortResolution preview(String release, CohortFilter filter, Integer sizeCap) throws FleetException {
        CohortFilter f = (filter == null ? new CohortFilter(null, null, null, List.of()) : filter).validated();
        return db.read(tx -> resolve(tx, release(tx, release), f, sizeCap));
    }

    /**
     * Resolves a filter inside a caller's transaction: matching devices in id order, minus those the
     * release does not support (blocked), those already in a cohort of the release, and those past
     * the size cap; every left-out device is listed with its reason.
     */
    public static CohortResolution resolve(Tx tx, Release release, CohortFilter filter, Integer sizeCap) throws SQLException {
        Map<String, Cohort> assigned = tx.cohorts().assignments(release.version());
        List<String> members = new ArrayList<>();
        List<Exclusion> excluded = new ArrayList<>();
        for (Device d : tx.devices().list()) {
            if (!filter.matches(d.record())) continue;
            Cohort holder = assigned.get(d.id());
            if (!release.supports(d.variant())) {
                excluded.add(new Exclusion.IncompatibleVariant(d.id(), d.variant()));
            } else if (holder != null) {
                excluded.add(new Exclusion.InOtherCohort(d.id(), holder.id(), holder.name()));
            } else if (sizeCap != null && members.size() >= sizeCap) {
                excluded.add(new Exclusion.OverSizeCap(d.id()));
            } else {
                members.add(d.id());
            }
        }
        return new CohortResolution(members, excluded);
    }

    public List<Cohort> list(String release) throws FleetException {
        String r = Names.optionalName(release, "release");
        return db.read(tx -> tx.cohorts().list(r));
    }

    public Detail get(long id) throws FleetException {
        return db.read(tx -> {
            Cohort c = tx.cohorts().find(id).orElseThrow(() -> FleetException.notFound("no cohort " + id));
            return new Detail(c, tx.cohorts().members(id));
        });
    }

    /**
     * Refuses the first device that cannot join a cohort of {@code release}. The UNIQUE
     * (release, device_id) constraint is the guarantee; this check runs first so the refusal can
     * name the cohort that holds the device (a violated constraint aborts the transaction on
     * PostgreSQL, after which nothing more can be asked).
     */
    private static void checkJoinable(Tx tx, Release release, List<String> deviceIds) throws SQLException, FleetException {
        for (String id : deviceIds) {
            Names.requireDeviceId(id, "members");
            Device d = tx.devices().find(id).orElseThrow(() -> FleetException.notFound("no device '" + id + "': register or import it first"));
            if (!release.supports(d.variant())) {
                throw new FleetException(ErrorCode.INCOMPATIBLE_VARIANT, "device " + id + " is variant " + d.variant()
                        + " but release " + release.version() + " supports only " + release.compatible(),
                        Map.of("device", id, "variant", d.variant(), "release", release.version(), "compatible", release.compatible()));
            }
            Optional<Cohort> holder = tx.cohorts().cohortOf(release.version(), id);
            if (holder.isPresent()) {
                Cohort h = holder.get();
                throw new FleetException(ErrorCode.COHORT_CONFLICT, "device " + id + " is already in cohort " + h.id() + " ('" + h.name()
                        + "') of release " + release.version() + ": a device belongs to at most one cohort per release",
                        Map.of("device", id, "cohortId", h.id(), "cohortName", h.name(), "release", release.version()));
            }
        }
    }

    private static Release release(Tx tx, String version) throws SQLException, FleetException {
        return tx.releases().find(version).orElseThrow(() -> FleetException.notFound("no release '" + version + "'"));
    }

    private static List<String> distinct(List<String> ids) throws FleetException {
        LinkedHashSet<String> out = new LinkedHashSet<>();
        for (String id : ids) out.add(Names.requireDeviceId(id, "members"));
        return List.copyOf(out);
    }

    private static Map<String, Object> filterMap(CohortFilter f) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (f.region() != null) m.put("region", f.region());
        if (f.corridor() != null) m.put("corridor", f.corridor());
        if (f.variant() != null) m.put("variant", f.variant());
        if (!f.tags().isEmpty()) m.put("tags", f.tags());
        return m;
    }
}
