package rsuota.fleet.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.fleet.domain.AuditEntry;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Millis;
import rsuota.fleet.store.Database;

/**
 * Signed checkpoints of the audit chain's head: the hash chain alone cannot show a deleted tail or a
 * chain recomputed from some point by whoever can write the database; a signed (seq, hash, time)
 * kept outside it can. The controller signs the head with its own Ed25519 key ({@code DIR/audit-signing.key},
 * created on first start, 0600) at an interval and after every rollout decision, and writes each
 * checkpoint to the system journal (a log line {@code AUDIT-CHECKPOINT {...}}), to
 * {@code DIR/audit-checkpoints.jsonl} and to an optional sink (a webhook). {@link #check} holds a
 * checkpoint against the chain: a truncated tail, a rewritten entry and a forged checkpoint each get
 * their own answer. docs/security.md has the threat it answers.
 */
public final class AuditCheckpoints {
    private static final Logger log = LoggerFactory.getLogger(AuditCheckpoints.class);
    private static final ObjectMapper JSON = JsonMapper.builder().build();
    /** What is signed: a fixed prefix, then seq, hash and time, so a signature means nothing else. */
    static final String PREFIX = "rsu-audit-checkpoint/1";
    public static final Duration DEFAULT_INTERVAL = Duration.ofMinutes(10);

    /** One checkpoint: the chain's head at {@code at}, and the controller's signature over it. */
    public record Checkpoint(long seq, String hash, Instant at, String sig) {
        String signedText() {
            return PREFIX + "|" + seq + "|" + hash + "|" + at;
        }

        /** The checkpoint as the JSON object it is written as. */
        public Map<String, Object> fields() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("v", 1);
            m.put("seq", seq);
            m.put("hash", hash);
            m.put("at", at.toString());
            m.put("sig", sig);
            return m;
        }

        public String json() {
            try {
                return JSON.writeValueAsString(fields());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Parses one checkpoint (a JSON object), or the last of JSON lines. */
        public static Checkpoint parse(String text) throws FleetException {
            String t = text == null ? "" : text.strip();
            if (t.contains("\n")) t = t.substring(t.lastIndexOf('\n') + 1).strip();
            try {
                JsonNode n = JSON.readTree(t);
                if (n == null || !n.isObject() || n.path("v").asInt() != 1 || !n.hasNonNull("seq") || !n.hasNonNull("hash")
                        || !n.hasNonNull("at") || !n.hasNonNull("sig")) {
                    throw FleetException.invalid("checkpoint", "is not an audit checkpoint {v:1, seq, hash, at, sig}");
                }
                return new Checkpoint(n.get("seq").asLong(), n.get("hash").asText(), Instant.parse(n.get("at").asText()), n.get("sig").asText());
            } catch (IOException | java.time.format.DateTimeParseException e) {
                throw FleetException.invalid("checkpoint", "is not an audit checkpoint: " + e.getMessage());
            }
        }
    }

    /**
     * @param ok      the chain holds the checkpoint's entry with the checkpoint's hash, and the signature is the controller's
     * @param problem null when ok; else what is wrong: forged, truncated or rewritten
     * @param entries entries in the chain now
     */
    public record Result(boolean ok, String problem, long entries, Checkpoint checkpoint) {}

    private final Database db;
    private final Clock clock;
    private final Path dir;
    private final KeyPair keys;
    private volatile Consumer<Checkpoint> sink = c -> { };
    private volatile Duration interval = DEFAULT_INTERVAL;
    private Checkpoint last;
    /** The newest entry {@link #takeIfDue} has looked at, and whether a rollout decision was among those since the last checkpoint. */
    private long scanned;
    private boolean decisionSeen;

    public AuditCheckpoints(Database db, Clock clock, Path dir) throws IOException {
        this.db = db;
        this.clock = clock;
        this.dir = dir;
        this.keys = loadOrCreate(dir);
        this.last = newestWritten();
    }

    /** An extra sink (e.g. a webhook); failures there are logged, never lose the local copies. */
    public AuditCheckpoints sink(Consumer<Checkpoint> s) {
        this.sink = s;
        return this;
    }

    public AuditCheckpoints interval(Duration d) {
        if (d.isNegative() || d.isZero() || d.compareTo(Duration.ofDays(1)) > 0) {
            throw new IllegalArgumentException("--audit-checkpoint-interval must be within (0, 1d], got " + d);
        }
        this.interval = d;
        return this;
    }

    /** The controller's public key, PEM: give it to whoever keeps the checkpoints. */
    public String publicKeyPem() {
        return "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(keys.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n";
    }

    public synchronized Checkpoint newest() {
        return last;
    }

    /**
     * Takes a checkpoint when the chain grew since the last one and the interval passed, or a rollout
     * decision was recorded since (the ticker calls this); returns it, or null when none was due.
     */
    public synchronized Checkpoint takeIfDue() throws FleetException {
        Instant now = Millis.now(clock);
        // Only the entries not looked at yet are read: the ticker calls this every second.
        long after = Math.max(scanned, last == null ? 0 : last.seq());
        List<AuditEntry> fresh = db.read(tx -> tx.audit().page(after, 10_000));
        if (!fresh.isEmpty()) {
            scanned = fresh.get(fresh.size() - 1).seq();
            if (fresh.stream().anyMatch(e -> e.action().startsWith("rollout."))) decisionSeen = true;
        }
        if (scanned <= (last == null ? 0 : last.seq())) return null;
        boolean due = last == null || !now.isBefore(last.at().plus(interval));
        if (!decisionSeen && !due) return null;
        decisionSeen = false;
        return take();
    }

    /** Signs the chain's head now and writes it to every sink. */
    public synchronized Checkpoint take() throws FleetException {
        AuditVerification v = db.read(AuditVerifier::verify);
        if (!v.ok()) {
            log.error("audit chain broken at entry {}: {}; no checkpoint taken", v.firstBroken(), v.problem());
            return null;
        }
        Instant now = Millis.now(clock);
        Checkpoint unsigned = new Checkpoint(v.entries(), v.head(), now, "");
        Checkpoint c = new Checkpoint(unsigned.seq(), unsigned.hash(), now, sign(unsigned.signedText()));
        log.info("AUDIT-CHECKPOINT {}", c.json());
        try {
            Files.writeString(dir.resolve("audit-checkpoints.jsonl"), c.json() + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                    StandardOpenOption.WRITE);
        } catch (IOException e) {
            log.error("cannot append the audit checkpoint to {}: {}", dir, e.toString());
        }
        try {
            sink.accept(c);
        } catch (RuntimeException e) {
            log.error("audit checkpoint sink failed: {}", e.toString());
        }
        last = c;
        return c;
    }

    /** Holds {@code c} against the chain: its signature, then the entry it names. */
    public Result check(Checkpoint c) throws FleetException {
        if (!verifySignature(c)) {
            return new Result(false, "the checkpoint's signature is not this controller's: forged or from another controller", -1, c);
        }
        AuditVerification v = db.read(AuditVerifier::verify);
        if (!v.ok()) return new Result(false, "the chain itself is broken at entry " + v.firstBroken() + ": " + v.problem(), v.entries(), c);
        if (v.entries() < c.seq()) {
            return new Result(false, "truncated: the log ends at entry " + v.entries() + " but the checkpoint of " + c.at() + " names entry "
                    + c.seq() + " (" + (c.seq() - v.entries()) + " newest entries deleted)", v.entries(), c);
        }
        AuditEntry e = c.seq() == 0 ? null : db.read(tx -> tx.audit().page(c.seq() - 1, 1)).stream().findFirst().orElse(null);
        String hash = e == null ? AuditChain.GENESIS : e.hash();
        if (!hash.equals(c.hash())) {
            return new Result(false, "rewritten: entry " + c.seq() + " hashes to " + hash + " but the checkpoint of " + c.at() + " says "
                    + c.hash() + " (the chain was recomputed from some entry up to it)", v.entries(), c);
        }
        return new Result(true, null, v.entries(), c);
    }

    /**
     * The newest checkpoint this controller wrote locally that still parses, or null. The file is
     * appended without fsync: a power cut can leave a torn last line (even bytes that are not UTF-8),
     * which is skipped for the one before it rather than stopping the controller's start.
     */
    Checkpoint newestWritten() throws IOException {
        Path f = dir.resolve("audit-checkpoints.jsonl");
        if (!Files.exists(f)) return null;
        String[] lines = new String(Files.readAllBytes(f), StandardCharsets.UTF_8).split("\n");
        for (int i = lines.length - 1; i >= 0; i--) {
            if (lines[i].isBlank()) continue;
            try {
                return Checkpoint.parse(lines[i]);
            } catch (FleetException e) {
                log.warn("skipping a local audit checkpoint in {} that does not parse (torn by a power cut?): {}", f, e.getMessage());
            }
        }
        return null;
    }

    private String sign(String text) throws FleetException {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(keys.getPrivate());
            s.update(text.getBytes(StandardCharsets.UTF_8));
            return Base64.getEncoder().encodeToString(s.sign());
        } catch (GeneralSecurityException e) {
            throw new FleetException(ErrorCode.INTERNAL, "cannot sign the audit checkpoint: " + e.getMessage());
        }
    }

    private boolean verifySignature(Checkpoint c) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(keys.getPublic());
            s.update(c.signedText().getBytes(StandardCharsets.UTF_8));
            return s.verify(Base64.getDecoder().decode(c.sig()));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    /** The controller's checkpoint key: read, or created once (private key 0600). */
    static KeyPair loadOrCreate(Path dir) throws IOException {
        Path priv = dir.resolve("audit-signing.key");
        Path pub = dir.resolve("audit-signing.pub");
        try {
            KeyFactory kf = KeyFactory.getInstance("Ed25519");
            if (Files.exists(priv) && Files.exists(pub)) {
                PrivateKey k = kf.generatePrivate(new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(pem(Files.readString(priv)))));
                PublicKey p = kf.generatePublic(new X509EncodedKeySpec(Base64.getMimeDecoder().decode(pem(Files.readString(pub)))));
                return new KeyPair(p, k);
            }
            KeyPair kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            Path tmp = dir.resolve("audit-signing.key.tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder().encodeToString(kp.getPrivate().getEncoded())
                    + "\n-----END PRIVATE KEY-----\n");
            Files.writeString(pub, "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(kp.getPublic().getEncoded())
                    + "\n-----END PUBLIC KEY-----\n");
            Files.move(tmp, priv, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return kp;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException("audit signing key in " + dir + " is unusable: " + e.getMessage(), e);
        }
    }

    private static String pem(String text) {
        return text.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    }
}
