package rsuota.fleet.diag;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import rsuota.fleet.audit.AuditLog;
import rsuota.fleet.auth.TokenSecret;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Millis;
import rsuota.fleet.domain.Names;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.Sql;
import rsuota.fleet.store.Table;
import rsuota.fleet.store.Tx;
import rsuota.wire.MqttCommand;
import rsuota.wire.Topics;
import rsuota.wire.WireCodec;

/**
 * Diagnostics bundles: an operator asks (a collect-diagnostics command with an upload URL), the
 * device uploads in ranged chunks ({@code Content-Range: bytes a-b/total}) that survive a cut
 * link, and the archive is kept under DIR/diagnostics until someone downloads it.
 *
 * <p>The upload URL carries a random capability (32 bytes; only its SHA-256 is stored) instead of
 * a bearer token, which a device does not hold; it expires with the command. Chunks are written
 * at their offset and fsync'd before the received length moves, so HEAD never claims bytes that a
 * power cut could lose.
 */
public final class Diagnostics {
    /** A device gets this long to collect and start uploading. */
    public static final Duration DEFAULT_TTL = Duration.ofMinutes(30);
    /** Largest archive accepted: logs and state of a box, not a disk image. */
    public static final long MAX_TOTAL = 256L << 20;
    public static final String COMMAND = "collect-diagnostics";
    private static final Pattern RANGE = Pattern.compile("bytes (\\d{1,12})-(\\d{1,12})/(\\d{1,12})");

    /** What the upload endpoint answers. */
    public record Progress(long id, long received, Long total, boolean complete) {}

    private final Database db;
    private final AuditLog audit;
    private final Clock clock;
    private final Path dir;
    private final Supplier<String> publicUrl;
    private final Duration ttl;
    private final Runnable commandWritten;

    public Diagnostics(Database db, AuditLog audit, Clock clock, Path dir, Supplier<String> publicUrl, Duration ttl, Runnable commandWritten) {
        this.db = db;
        this.audit = audit;
        this.clock = clock;
        this.dir = dir;
        this.publicUrl = publicUrl;
        this.ttl = ttl;
        this.commandWritten = commandWritten;
    }

    /** Asks a device for a bundle (audited as device.diagnostics). */
    public DiagnosticsRequest request(Principal who, String deviceId, String reason) throws FleetException {
        String id = Names.requireDeviceId(deviceId, "device");
        if (!Topics.DEVICE_ID.matcher(id).matches()) throw FleetException.invalid("device", "'" + id + "' cannot be addressed over MQTT");
        String why = Names.optionalText(reason, "reason");
        String capability = TokenSecret.generate();
        Instant now = Millis.now(clock);
        Instant expires = now.plus(ttl);
        String commandId = UUID.randomUUID().toString();
        long rid = db.write(tx -> {
            tx.devices().find(id).orElseThrow(() -> FleetException.notFound("no device '" + id + "'"));
            long n = Sql.nextId(tx.connection(), Table.DIAGNOSTICS, "id");
            try (PreparedStatement ps = tx.connection().prepareStatement("INSERT INTO diagnostics (id, device_id, command_id, upload_hash, "
                    + "received, requested_at, expires_at, requested_by) VALUES (?, ?, ?, ?, 0, ?, ?, ?)")) {
                ps.setLong(1, n);
                ps.setString(2, id);
                ps.setString(3, commandId);
                ps.setString(4, TokenSecret.hash(capability));
                Sql.setMillis(ps, 5, now);
                Sql.setMillis(ps, 6, expires);
                ps.setString(7, who.label());
                ps.executeUpdate();
            }
            String url = base() + "/uploads/diagnostics/" + capability;
            MqttCommand cmd = new MqttCommand(MqttCommand.SCHEMA, commandId, COMMAND, expires, Map.of("uploadUrl", url, "diagnosticsId", Long.toString(n)));
            tx.commands().insert(commandId, id, COMMAND, new String(WireCodec.encode(cmd), StandardCharsets.UTF_8), now, expires, who.label());
            audit.append(tx, who, "device.diagnostics", "device:" + id, why, Map.of("diagnostics", n, "command", commandId, "expiresAt", expires.toString()));
            return n;
        });
        commandWritten.run();
        return get(rid);
    }

    public DiagnosticsRequest get(long id) throws FleetException {
        return db.read(tx -> find(tx, "d.id = ?", id)).orElseThrow(() -> FleetException.notFound("no diagnostics request " + id));
    }

    /** The completed archive's file. */
    public Path archive(long id) throws FleetException {
        DiagnosticsRequest r = get(id);
        if (!r.complete()) {
            throw new FleetException(ErrorCode.NOT_FOUND, "diagnostics " + id + " is not complete yet (" + r.received() + " of "
                    + (r.total() == null ? "?" : r.total()) + " bytes)", Map.of("received", r.received()));
        }
        return file(id, true);
    }

    /** Bytes received for the upload named by {@code capability} (HEAD). */
    public Progress received(String capability) throws FleetException {
        DiagnosticsRequest r = byCapability(capability);
        return new Progress(r.id(), r.received(), r.total(), r.complete());
    }

    /**
     * Takes one chunk. {@code contentRange} null means the whole archive in one body. A chunk
     * must start at or before the received length (a re-sent chunk is fine; what is already
     * here is skipped), else RANGE_NOT_SATISFIABLE with the received length.
     */
    public Progress upload(String capability, String contentRange, byte[] body) throws FleetException {
        DiagnosticsRequest r = byCapability(capability);
        Instant now = Millis.now(clock);
        if (r.complete()) return new Progress(r.id(), r.received(), r.total(), true);
        if (now.isAfter(r.expiresAt())) throw FleetException.notFound("the upload URL of diagnostics " + r.id() + " expired at " + r.expiresAt());
        long first;
        long last;
        long total;
        if (contentRange == null) {
            first = 0;
            total = body.length;
            last = total - 1;
        } else {
            Matcher m = RANGE.matcher(contentRange.trim());
            if (!m.matches()) throw FleetException.invalid("Content-Range", "'" + contentRange + "' is not 'bytes FIRST-LAST/TOTAL'");
            first = Long.parseLong(m.group(1));
            last = Long.parseLong(m.group(2));
            total = Long.parseLong(m.group(3));
            if (last < first || last >= total) throw FleetException.invalid("Content-Range", "range " + first + "-" + last + " does not fit in " + total);
            if (last - first + 1 != body.length) {
                throw FleetException.invalid("Content-Range", "range says " + (last - first + 1) + " bytes, the body has " + body.length);
            }
        }
        if (total > MAX_TOTAL) throw new FleetException(ErrorCode.PAYLOAD_TOO_LARGE, "archive of " + total + " bytes exceeds " + MAX_TOTAL);
        if (r.total() != null && r.total() != total) {
            throw FleetException.invalid("Content-Range", "total " + total + " differs from the " + r.total() + " announced before");
        }
        if (first > r.received()) {
            throw new FleetException(ErrorCode.RANGE_NOT_SATISFIABLE, "chunk starts at " + first + " but only " + r.received()
                    + " bytes are here: continue from there (HEAD tells the received length)", Map.of("received", r.received()));
        }
        long skip = r.received() - first;
        long received = r.received();
        if (skip < body.length) {
            try {
                Files.createDirectories(dir);
                try (FileChannel ch = FileChannel.open(file(r.id(), false), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                    ByteBuffer buf = ByteBuffer.wrap(body, (int) skip, body.length - (int) skip);
                    long pos = received;
                    while (buf.hasRemaining()) pos += ch.write(buf, pos);
                    ch.force(true);
                    received = pos;
                }
            } catch (IOException e) {
                throw new FleetException(ErrorCode.STORE_FAILURE, "cannot write diagnostics " + r.id() + ": " + e.getMessage(), Map.of(), e);
            }
        }
        boolean complete = received == total;
        if (complete) {
            try {
                Files.move(file(r.id(), false), file(r.id(), true), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new FleetException(ErrorCode.STORE_FAILURE, "cannot finish diagnostics " + r.id() + ": " + e.getMessage(), Map.of(), e);
            }
        }
        long rec = received;
        db.write(tx -> {
            try (PreparedStatement ps = tx.connection().prepareStatement(
                    "UPDATE diagnostics SET total = ?, received = ?, completed_at = ? WHERE id = ?")) {
                ps.setLong(1, total);
                ps.setLong(2, rec);
                Sql.setMillis(ps, 3, complete ? now : null);
                ps.setLong(4, r.id());
                ps.executeUpdate();
            }
            return null;
        });
        return new Progress(r.id(), rec, total, complete);
    }

    private DiagnosticsRequest byCapability(String capability) throws FleetException {
        if (capability == null || capability.isBlank()) throw FleetException.notFound("no such upload");
        String hash = TokenSecret.hash(capability);
        return db.read(tx -> find(tx, "d.upload_hash = ?", hash)).orElseThrow(() -> FleetException.notFound("no such upload"));
    }

    private Path file(long id, boolean complete) {
        return dir.resolve(id + (complete ? ".bundle" : ".part"));
    }

    private String base() {
        String b = publicUrl.get();
        return b.endsWith("/") ? b.substring(0, b.length() - 1) : b;
    }

    private static Optional<DiagnosticsRequest> find(Tx tx, String where, Object arg) throws SQLException {
        try (PreparedStatement ps = tx.connection().prepareStatement("""
                SELECT d.id, d.device_id, d.command_id, d.total, d.received, d.requested_at, d.expires_at, d.requested_by, d.completed_at,
                       c.acked_at, c.ack_result
                FROM diagnostics d LEFT JOIN commands c ON c.id = d.command_id WHERE""" + " " + where)) {
            if (arg instanceof Long l) ps.setLong(1, l);
            else ps.setString(1, arg.toString());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return Optional.empty();
                return Optional.of(new DiagnosticsRequest(rs.getLong("id"), rs.getString("device_id"), rs.getString("command_id"),
                        Sql.longOrNull(rs, "total"), rs.getLong("received"), Sql.instant(rs, "requested_at"), Sql.instant(rs, "expires_at"),
                        rs.getString("requested_by"), Sql.instant(rs, "completed_at"), Sql.instant(rs, "acked_at"), rs.getString("ack_result")));
            }
        }
    }
}
