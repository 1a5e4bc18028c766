package rsuota.fleet.release;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import rsuota.bundle.BundleException;
import rsuota.bundle.BundleVerifier;
import rsuota.bundle.ExpectedFetch;
import rsuota.bundle.Manifest;
import rsuota.bundle.VerifiedManifest;
import rsuota.bundle.VerifyOptions;
import rsuota.fleet.audit.AuditLog;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Millis;
import rsuota.fleet.domain.Names;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Release;
import rsuota.fleet.store.Database;

/**
 * Releases. A release exists only for a bundle that verified against the fleet keyring at
 * creation: signature, signer chain, usage, algorithms and every payload chunk. Its compatible
 * variants come from the verified manifest, never from the caller.
 */
public final class ReleaseCatalog {
    /** Release notes may be long and span lines, unlike other text fields. */
    static final int MAX_NOTES = 64 * 1024;

    /**
     * A request to create a release.
     *
     * @param bundle         a bundle file: a name relative to the artifact directory, or an absolute
     *                       path on the controller's host
     * @param bundleUrl      where devices fetch it; may be omitted for a bundle inside the artifact
     *                       directory, which the controller serves at {@code /artifacts/NAME}
     * @param previousStable the release devices roll back to (must exist), or null
     * @param notes          release notes, or null
     * @param reason         why, for the audit log, or null
     */
    public record NewRelease(String bundle, String bundleUrl, String previousStable, String notes, String reason) {}

    private final Database db;
    private final AuditLog audit;
    private final List<X509Certificate> keyring;
    private final Path artifacts;
    private final Clock clock;

    public ReleaseCatalog(Database db, AuditLog audit, List<X509Certificate> keyring, Path artifacts, Clock clock) {
        this.db = db;
        this.audit = audit;
        this.keyring = List.copyOf(keyring);
        this.artifacts = artifacts.toAbsolutePath().normalize();
        this.clock = clock;
    }

    public Path artifacts() {
        return artifacts;
    }

    /**
     * Verifies the bundle and records the release (audited as release.create).
     *
     * @throws FleetException BUNDLE_REJECTED with details.reason = the bundle's reason code;
     *                        ALREADY_EXISTS for a known version; INVALID_REQUEST for a bad field
     */
    public Release create(Principal who, NewRelease req) throws FleetException {
        String reason = Names.optionalText(req.reason(), "reason");
        String previous = Names.optionalName(req.previousStable(), "previousStable");
        String notes = req.notes();
        if (notes != null && notes.length() > MAX_NOTES) throw FleetException.invalid("notes", "longer than " + MAX_NOTES + " characters");
        Path file = locate(req.bundle());
        String url = bundleUrl(file, req.bundleUrl());
        VerifiedManifest vm = verify(file);
        String version = vm.manifest().release();
        Release release = new Release(version, url, vm.manifestDigest(), new String(vm.manifestBytes(), StandardCharsets.UTF_8),
                vm.manifest().compatible(), vm.manifest().securityVersion(), previous, notes, vm.signer().subject(),
                Millis.now(audit.clock()), who.label());
        return db.write(tx -> {
            Optional<Release> existing = tx.releases().find(version);
            if (existing.isPresent()) {
                throw new FleetException(ErrorCode.ALREADY_EXISTS, "release " + version + " exists (created "
                        + existing.get().createdAt() + " by " + existing.get().createdBy() + ", manifest "
                        + existing.get().manifestDigest() + "); a release version is never reused",
                        Map.of("version", version));
            }
            if (previous != null && tx.releases().find(previous).isEmpty()) {
                throw FleetException.invalid("previousStable", "release " + previous + " is unknown: create it first, or leave it out");
            }
            if (version.equals(previous)) throw FleetException.invalid("previousStable", "a release cannot be its own previous stable");
            tx.releases().insert(release);
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("manifestDigest", release.manifestDigest());
            detail.put("bundleUrl", url);
            detail.put("compatible", release.compatible());
            detail.put("signer", release.signer());
            if (previous != null) detail.put("previousStable", previous);
            audit.append(tx, who, "release.create", "release:" + version, reason, detail);
            return release;
        });
    }

    public Release get(String version) throws FleetException {
        return db.read(tx -> tx.releases().find(version)).orElseThrow(() -> FleetException.notFound("no release '" + version + "'"));
    }

    /** Who withdrew {@code version}, when and why; empty while it stands. */
    public java.util.Optional<rsuota.fleet.store.ReleaseRepository.Withdrawal> withdrawal(String version) throws FleetException {
        return db.read(tx -> tx.releases().withdrawal(version));
    }

    /**
     * What a unit running an earlier release fetches to install {@code version}, for every release
     * created before it: the stored bytes of the chunks whose identity the earlier release's image
     * does not hold (a format 1 release: its whole payload). Computed from the signed manifests.
     */
    public Transfer transfer(Release release) throws FleetException {
        Manifest next = release.manifest();
        List<ExpectedBytes> from = new ArrayList<>();
        for (Release earlier : list()) {
            if (earlier.version().equals(release.version())) break;
            from.add(new ExpectedBytes(earlier.version(), ExpectedFetch.from(earlier.manifest(), next).fetchBytes()));
        }
        return new Transfer(next.payloadSize(), next.imagesSize(), next.formatVersion(), from);
    }

    /**
     * @param payloadBytes  the whole payload's stored size (what a unit with nothing to reuse fetches)
     * @param imageBytes    the images' size once written
     * @param format        the bundle format (1 or 2)
     * @param expectedBytes per earlier release, the bytes a unit running it fetches
     */
    public record Transfer(long payloadBytes, long imageBytes, int format, List<ExpectedBytes> expectedBytes) {}

    /** @param from the release a unit runs; @param bytes the payload bytes it fetches (header not included) */
    public record ExpectedBytes(String from, long bytes) {}

    public List<Release> list() throws FleetException {
        return db.read(tx -> tx.releases().list());
    }

    private VerifiedManifest verify(Path file) throws FleetException {
        // The controller's clock is trusted (NTP on a server), so a signing time in the future is refused.
        BundleVerifier verifier = new BundleVerifier(VerifyOptions.of(keyring)
                .withTrustedNow(() -> Optional.of(clock.instant())));
        try {
            return verifier.verifyFile(file, null);
        } catch (BundleException e) {
            throw new FleetException(ErrorCode.BUNDLE_REJECTED, "bundle " + file.getFileName() + " refused: " + e.oneLine(),
                    Map.of("reason", e.reason().name(), "bundle", file.getFileName().toString()), e);
        } catch (IOException e) {
            throw new FleetException(ErrorCode.INVALID_REQUEST, "bundle: cannot read " + file + ": " + e.getMessage(),
                    Map.of("field", "bundle"), e);
        }
    }

    /** Relative names resolve inside the artifact directory and may not climb out of it. */
    private Path locate(String bundle) throws FleetException {
        if (bundle == null || bundle.isBlank()) throw FleetException.invalid("bundle", "is required (a file name in the artifact directory or an absolute path)");
        Path given = Path.of(bundle);
        Path file = given.isAbsolute() ? given.normalize() : artifacts.resolve(given).normalize();
        if (!given.isAbsolute() && !file.startsWith(artifacts)) {
            throw FleetException.invalid("bundle", "'" + bundle + "' leaves the artifact directory");
        }
        if (!Files.isRegularFile(file)) {
            throw FleetException.invalid("bundle", "no bundle file at " + file
                    + (given.isAbsolute() ? "" : " (relative names are looked up in the artifact directory " + artifacts + ")"));
        }
        return file;
    }

    private String bundleUrl(Path file, String given) throws FleetException {
        if (given != null && !given.isBlank()) {
            if (given.startsWith("/artifacts/")) return given;
            try {
                URI u = new URI(given);
                if (u.isAbsolute() && ("https".equals(u.getScheme()) || "http".equals(u.getScheme())) && u.getHost() != null) return given;
            } catch (URISyntaxException e) {
                throw FleetException.invalid("bundleUrl", "'" + given + "' is not a URL: " + e.getMessage());
            }
            throw FleetException.invalid("bundleUrl", "'" + given + "' must be an http(s) URL or a path under /artifacts/");
        }
        if (!file.startsWith(artifacts)) {
            throw FleetException.invalid("bundleUrl", "the bundle " + file + " is outside the artifact directory " + artifacts
                    + " and no bundleUrl was given: copy it into that directory (served at /artifacts/NAME) or give the URL devices fetch it from");
        }
        List<String> segments = new ArrayList<>();
        for (Path p : artifacts.relativize(file)) {
            segments.add(java.net.URLEncoder.encode(p.toString(), StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return "/artifacts/" + String.join("/", segments);
    }
}
