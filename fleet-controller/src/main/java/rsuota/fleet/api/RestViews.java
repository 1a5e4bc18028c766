package rsuota.fleet.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import rsuota.fleet.audit.AuditVerification;
import rsuota.fleet.domain.AuditEntry;
import rsuota.fleet.domain.Cohort;
import rsuota.fleet.domain.CohortFilter;
import rsuota.fleet.domain.CohortMember;
import rsuota.fleet.domain.Device;
import rsuota.fleet.domain.Exclusion;
import rsuota.fleet.domain.Incident;
import rsuota.fleet.domain.Release;
import rsuota.fleet.domain.TokenInfo;

/** Response bodies of the REST API, and their construction from domain values. */
public final class RestViews {
    private RestViews() {}

    public record RestDevice(String id, String variant, String region, String corridor, String site, List<String> tags,
                             Instant lastSeen, JsonNode reportedState, Instant createdAt, Instant updatedAt, String deploymentState,
                             List<String> flags, RestTechnicianHold technician) {
        static RestDevice of(Device d, rsuota.fleet.rollout.DeviceProgress.Local hold) {
            RestDevice v = of(d, null, List.of());
            return new RestDevice(v.id(), v.variant(), v.region(), v.corridor(), v.site(), v.tags(), v.lastSeen(), v.reportedState(), v.createdAt(),
                    v.updatedAt(), v.deploymentState(), v.flags(), hold == null ? null : new RestTechnicianHold(hold.state(), hold.by(), hold.since(),
                    hold.reason()));
        }

        static RestDevice of(Device d, String deploymentState, List<String> flags) {
            var r = d.record();
            return new RestDevice(r.id(), r.variant(), r.region(), r.corridor(), r.site(), r.tags(), d.lastSeen(),
                    d.reportedState() == null ? null : parse(d.reportedState()), d.createdAt(), d.updatedAt(), deploymentState, flags, null);
        }
    }

    /** A technician's hold on the unit: locked_by_technician or locally_managed, by technician:USER, since, why. */
    public record RestTechnicianHold(String state, String by, Instant since, String reason) {}

    /** One event of a unit's history, as it reported it (detail as sent). */
    public record RestDeviceEvent(long seq, Instant at, Instant receivedAt, String type, String state, String release, String reason,
                                  JsonNode detail) {
        static RestDeviceEvent of(rsuota.fleet.store.DeviceEventRepository.StoredEvent e) {
            return new RestDeviceEvent(e.seq(), e.at(), e.receivedAt(), e.type(), e.state(), e.release(), e.reason(),
                    e.detail() == null ? null : parse(e.detail()));
        }
    }

    public record RestRelease(String version, String bundleUrl, String manifestDigest, List<String> compatible, long securityVersion,
                              String previousStable, String notes, String signer, Instant createdAt, String createdBy, JsonNode manifest,
                              rsuota.fleet.store.ReleaseRepository.Withdrawal withdrawn, Integer format, Long payloadBytes, Long imageBytes,
                              List<rsuota.fleet.release.ReleaseCatalog.ExpectedBytes> expectedBytes) {
        static RestRelease of(Release r, boolean withManifest) {
            return of(r, withManifest, null);
        }

        static RestRelease of(Release r, boolean withManifest, rsuota.fleet.store.ReleaseRepository.Withdrawal w) {
            return of(r, withManifest ? parse(r.manifestJson()) : null, w, null);
        }

        /** The one-release view: its manifest and the bytes units fetch for it, from each earlier release. */
        static RestRelease of(Release r, rsuota.fleet.store.ReleaseRepository.Withdrawal w, rsuota.fleet.release.ReleaseCatalog.Transfer t) {
            return of(r, parse(r.manifestJson()), w, t);
        }

        private static RestRelease of(Release r, JsonNode manifest, rsuota.fleet.store.ReleaseRepository.Withdrawal w,
                                      rsuota.fleet.release.ReleaseCatalog.Transfer t) {
            return new RestRelease(r.version(), r.bundleUrl(), r.manifestDigest(), r.compatible(), r.securityVersion(), r.previousStable(),
                    r.notes(), r.signer(), r.createdAt(), r.createdBy(), manifest, w, t == null ? null : t.format(),
                    t == null ? null : t.payloadBytes(), t == null ? null : t.imageBytes(), t == null ? null : t.expectedBytes());
        }
    }

    public record RestFilter(String region, String corridor, String variant, List<String> tags) {
        static RestFilter of(CohortFilter f) {
            return f == null ? null : new RestFilter(f.region(), f.corridor(), f.variant(), f.tags().isEmpty() ? null : f.tags());
        }
    }

    public record RestCohort(long id, String release, String name, String kind, RestFilter filter, Integer sizeCap, int memberCount,
                             Instant createdAt, String createdBy, List<RestMember> members) {
        static RestCohort of(Cohort c, List<CohortMember> members) {
            return new RestCohort(c.id(), c.release(), c.name(), c.kind().wire(), RestFilter.of(c.filter()), c.sizeCap(), c.memberCount(),
                    c.createdAt(), c.createdBy(), members == null ? null : members.stream().map(RestMember::of).toList());
        }
    }

    public record RestMember(String device, Instant addedAt) {
        static RestMember of(CohortMember m) {
            return new RestMember(m.deviceId(), m.addedAt());
        }
    }

    /** A device a filter matched but left out, with the stable reason code and its specifics. */
    public record RestExclusion(String device, String code, String variant, Long cohortId, String cohortName) {
        static RestExclusion of(Exclusion e) {
            // Java 17 has no pattern switch; the sealed interface keeps this chain complete.
            if (e instanceof Exclusion.IncompatibleVariant v) return new RestExclusion(v.deviceId(), v.code(), v.variant(), null, null);
            if (e instanceof Exclusion.InOtherCohort o) return new RestExclusion(o.deviceId(), o.code(), null, o.cohortId(), o.cohortName());
            return new RestExclusion(e.deviceId(), e.code(), null, null, null);
        }
    }

    public record RestIncident(String id, String severity, String state, String release, String title,
                               Instant openedAt, Instant updatedAt, Instant resolvedAt) {
        static RestIncident of(Incident i) {
            return new RestIncident(i.id(), i.severity().wire(), i.state().wire(), i.release(), i.title(),
                    i.openedAt(), i.updatedAt(), i.resolvedAt());
        }
    }

    public record RestAuditEntry(long seq, Instant at, String actor, String role, String action, String target, String reason,
                                 JsonNode detail, String prevHash, String hash) {
        static RestAuditEntry of(AuditEntry e) {
            return new RestAuditEntry(e.seq(), e.at(), e.actor(), e.role(), e.action(), e.target(), e.reason(),
                    parse(e.detail()), e.prevHash(), e.hash());
        }
    }

    /** The chain check; firstBroken is always present (null when ok) so clients can rely on the field. */
    public record RestVerification(boolean ok, long entries, @JsonInclude(JsonInclude.Include.ALWAYS) Long firstBroken,
                                   String problem, String head) {
        static RestVerification of(AuditVerification v) {
            return new RestVerification(v.ok(), v.entries(), v.firstBroken(), v.problem(), v.head());
        }
    }

    /** The one response that carries a token secret; it is never shown again. */
    public record RestIssuedToken(long id, String label, String role, String token, Instant createdAt, Instant expiresAt) {
        static RestIssuedToken of(TokenInfo t, String secret) {
            return new RestIssuedToken(t.id(), t.label(), t.role().wire(), secret, t.createdAt(), t.expiresAt());
        }
    }

    /** A token as an admin lists it: never its secret. */
    public record RestToken(long id, String label, String role, String state, Instant createdAt, String createdBy, Instant expiresAt,
                            Instant lastUsedAt, Instant revokedAt, String revokedBy) {
        static RestToken of(TokenInfo t, Instant now) {
            return new RestToken(t.id(), t.label(), t.role().wire(), t.state(now), t.createdAt(), t.createdBy(), t.expiresAt(), t.lastUsedAt(),
                    t.revokedAt(), t.revokedBy());
        }
    }

    /** Stored JSON text as a tree; text that is not JSON (a tampered row) is shown as a string. */
    static JsonNode parse(String json) {
        try {
            return ApiJson.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            return ApiJson.MAPPER.getNodeFactory().textNode(json);
        }
    }
}
