package rsuota.fleet.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.TreeMap;
import rsuota.bundle.Sha256;
import rsuota.fleet.domain.AuditEntry;

/**
 * The hash chain's arithmetic, in one place so that writer and verifier cannot disagree:
 * {@code hash = SHA-256(prevHash || canonicalJson(entry))}, both as UTF-8, hex-encoded.
 *
 * <p>Canonical JSON: an object with the keys action, actor, at, detail, reason, role, seq, target
 * in sorted order (nested detail keys sorted too), no whitespace, {@code at} as ISO-8601 UTC with
 * millisecond precision at most, null written as null. Anyone can recompute a hash from an export.
 */
public final class AuditChain {
    private AuditChain() {}

    /** The prev_hash of the first entry. */
    public static final String GENESIS = "0".repeat(64);

    private static final ObjectMapper CANONICAL = JsonMapper.builder()
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .build();

    /** Serialises a detail map canonically ("{}" for null or empty). */
    public static String canonicalDetail(Map<String, ?> detail) {
        try {
            return CANONICAL.writeValueAsString(detail == null ? Map.of() : new TreeMap<>(detail));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("audit detail is not serialisable as JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** The canonical JSON of an entry's content (everything but prevHash and hash). */
    public static String canonicalJson(AuditEntry e) {
        Map<String, Object> m = new TreeMap<>();
        m.put("seq", e.seq());
        m.put("at", DateTimeFormatter.ISO_INSTANT.format(e.at()));
        m.put("actor", e.actor());
        m.put("role", e.role());
        m.put("action", e.action());
        m.put("target", e.target());
        m.put("reason", e.reason());
        m.put("detail", parseDetail(e.detail()));
        try {
            return CANONICAL.writeValueAsString(m);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException("audit entry " + e.seq() + " cannot be serialised: " + ex.getOriginalMessage(), ex);
        }
    }

    public static String hash(String prevHash, AuditEntry e) {
        MessageDigest d = Sha256.newDigest();
        d.update(prevHash.getBytes(StandardCharsets.UTF_8));
        d.update(canonicalJson(e).getBytes(StandardCharsets.UTF_8));
        return Sha256.hex(d.digest());
    }

    /**
     * A detail column that is not JSON still hashes (as a plain string): verification then reports
     * the hash mismatch on that entry instead of failing to read the chain at all.
     */
    private static Object parseDetail(String detail) {
        try {
            return CANONICAL.readValue(detail, Object.class);
        } catch (JsonProcessingException | IllegalArgumentException ex) {
            return detail;
        }
    }
}
