package rsuota.bundletool;

import java.util.Locale;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import rsuota.bundle.BundleFormat;
import rsuota.bundle.BundleHeader;
import rsuota.bundle.ExpectedFetch;
import rsuota.bundle.Manifest;
import rsuota.bundle.ManifestImage;
import rsuota.bundle.Sha256;

/**
 * {@code rsu-bundle estimate --from OLD NEW.rsub}: the bytes a unit running OLD (an image, or the
 * bundle it was installed from) fetches for NEW, as the agent decides: a chunk whose identity OLD
 * holds is copied from the active slot, and so is a second occurrence of a chunk in NEW; every other
 * one is fetched in its stored (compressed) form.
 */
@Command(name = "estimate", mixinStandardHelpOptions = true,
        description = "Print the bytes a unit running OLD (image or bundle) would fetch to install NEW (format 2).")
final class Estimate implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;
    @Option(names = "--from", required = true, paramLabel = "OLD", description = "the running image, or the bundle it came from") Path from;
    @Parameters(index = "0", paramLabel = "NEW.rsub", description = "the bundle to install") Path bundle;

    @Override
    public Integer call() throws RsuBundle.Failure {
        BundleHeader h = RsuBundle.header(bundle);
        Manifest m = h.manifest();
        try {
            Set<String> old = new HashSet<>();
            if (isBundle(from)) {
                old.addAll(ExpectedFetch.identities(RsuBundle.header(from).manifest()));
            } else {
                for (ManifestImage im : m.images()) if (im.compressed()) old.addAll(identities(from, im));
            }
            ExpectedFetch e = ExpectedFetch.of(m, old);
            long fetch = h.payloadOffset() + e.fetchBytes();
            long reuse = e.reuseBytes();
            int fetched = e.fetchChunks();
            int total = e.totalChunks();
            spec.commandLine().getOut().printf(Locale.US, "fetch %d bytes (%d of %d chunks, header included); reuse %d bytes from the active slot; "
                    + "whole bundle %d bytes%n", fetch, fetched, total, reuse, h.payloadOffset() + m.payloadSize());
            return ExitCodes.OK.code();
        } catch (IOException e) {
            throw new RsuBundle.Failure(ExitCodes.IO, "cannot read " + from + ": " + e);
        }
    }

    private static boolean isBundle(Path p) throws IOException {
        try (var in = Files.newInputStream(p)) {
            return java.util.Arrays.equals(in.readNBytes(4), BundleFormat.MAGIC);
        }
    }

    /** Cuts the image as the agent cuts its active slot: with the new bundle's chunking. */
    private static Set<String> identities(Path image, ManifestImage im) throws IOException {
        Set<String> ids = new HashSet<>();
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            im.chunking().split(ch, ch.size(), (at, buf, off, len) -> ids.add(Sha256.of(buf, off, len)));
        }
        return ids;
    }

}
