package rsuota.agent.download;

import java.net.URI;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.function.Function;
import rsuota.agent.AgentError;

/**
 * What one Range response must be before any of its body bytes count, for every transport: status
 * 206, a Content-Range naming exactly the requested bytes of a bundle of the expected total size,
 * the same ETag as when the download started, a Content-Length (when sent) that agrees. Every other
 * answer becomes the {@link FetchException} with its own code.
 */
final class RangeCheck {
    /** Redirects a transport follows before a 3xx counts as a loop: the JDK client's default (jdk.httpclient.redirects.retrylimit). */
    static final int MAX_REDIRECTS = 5;

    final URI uri;
    final long offset;
    final int length;
    final BundleSource.Identity expected;
    private volatile FetchException error;
    private volatile BundleSource.Identity identity;
    private volatile int rangeLength;

    RangeCheck(URI uri, long offset, int length, BundleSource.Identity expected) {
        this.uri = uri;
        this.offset = offset;
        this.length = length;
        this.expected = expected;
    }

    /** The refusal {@link #inspect} found, or null when the body may be read. */
    FetchException error() {
        return error;
    }

    BundleSource.Identity identity() {
        return identity;
    }

    /** Body bytes the accepted response announced. */
    int rangeLength() {
        return rangeLength;
    }

    /** A body that ended early: the caller retries the range. */
    FetchException shortBody(int received) {
        return new FetchException(AgentError.CONNECTION_LOST, "body ended after " + received + " of " + rangeLength
                + " bytes (range " + offset + "+" + length + ")");
    }

    /** A body longer than the range: refused, never written past the buffer. */
    FetchException longBody() {
        return new FetchException(AgentError.BAD_RESPONSE, "server sent more bytes than the requested range (" + length + ")");
    }

    /** Lost after the headers: the caller retries the range. */
    static FetchException lostInBody(int received, String why) {
        return new FetchException(AgentError.CONNECTION_LOST, "connection lost after " + received + " body bytes: " + why);
    }

    /** Checks status and headers ({@code header} gives a header's first value by case-insensitive name); sets {@link #error} on a refusal. */
    void inspect(int status, Function<String, Optional<String>> header) {
        error = classify(status, header);
    }

    /**
     * The three numbers of {@code bytes FIRST-LAST/TOTAL} (ASCII digits, each fitting a long), or null.
     * Parsed by hand: a regex's matcher is one more thing C2 compiles late in a large install, once
     * thousands of responses went by (docs/benchmarks.md, "Install peak RSS").
     */
    static long[] contentRange(String s) {
        if (!s.startsWith("bytes ")) return null;
        long[] v = new long[3];
        int at = "bytes ".length();
        for (int k = 0; k < 3; k++) {
            int end = at;
            while (end < s.length() && s.charAt(end) >= '0' && s.charAt(end) <= '9') end++;
            boolean last = k == 2;
            if (end == at || (last ? end != s.length() : end == s.length() || s.charAt(end) != (k == 0 ? '-' : '/'))) return null;
            try {
                v[k] = Long.parseLong(s, at, end, 10);
            } catch (NumberFormatException e) {
                return null; // more digits than a long holds
            }
            at = end + 1;
        }
        return v;
    }

    private FetchException classify(int status, Function<String, Optional<String>> h) {
        if (status == 206) {
            Optional<String> cr = h.apply("Content-Range");
            if (cr.isEmpty()) return new FetchException(AgentError.BAD_RESPONSE, "206 without Content-Range");
            long[] range = contentRange(cr.get().trim());
            if (range == null) return new FetchException(AgentError.BAD_RESPONSE, "unreadable Content-Range '" + cr.get() + "'");
            long a = range[0];
            long b = range[1];
            long total = range[2];
            String etag = h.apply("ETag").orElse(null);
            identity = new BundleSource.Identity(total, etag);
            if (expected != null && (expected.size() != total
                    || (expected.etag() != null && etag != null && !expected.etag().equals(etag)))) {
                return new FetchException(AgentError.BUNDLE_CHANGED, "the bundle at " + uri + " changed since the download started ("
                        + expected.size() + " bytes, ETag " + expected.etag() + " -> " + total + " bytes, ETag " + etag + ")");
            }
            long wantEnd = Math.min(offset + length, total) - 1;
            if (a != offset || b != wantEnd) {
                return new FetchException(AgentError.BAD_RESPONSE, "Content-Range " + cr.get() + " is not the requested bytes "
                        + offset + "-" + wantEnd);
            }
            Optional<String> clv = h.apply("Content-Length");
            if (clv.isPresent()) {
                long cl;
                try {
                    cl = Long.parseLong(clv.get().trim());
                } catch (NumberFormatException e) {
                    return new FetchException(AgentError.BAD_RESPONSE, "unreadable Content-Length '" + clv.get() + "'");
                }
                if (cl != b - a + 1) {
                    return new FetchException(AgentError.BAD_RESPONSE, "Content-Length " + cl + " disagrees with Content-Range " + cr.get());
                }
            }
            rangeLength = (int) (b - a + 1);
            return null;
        }
        if (status == 200) {
            return new FetchException(AgentError.RANGE_NOT_SUPPORTED, uri + " answered 200 to a Range request: the server must support "
                    + "byte ranges (HTTP 206) for resumable downloads");
        }
        if (status == 416) {
            return new FetchException(AgentError.BUNDLE_CHANGED, uri + " says range " + offset + "+" + length
                    + " is not satisfiable: the bundle is shorter than when the download started");
        }
        if (status == 404 || status == 410) return new FetchException(AgentError.NOT_FOUND, uri + " answered " + status + ": no bundle at this URL");
        if (status == 401 || status == 403) return new FetchException(AgentError.ACCESS_DENIED, uri + " answered " + status);
        if (status >= 300 && status < 400) {
            return new FetchException(AgentError.TOO_MANY_REDIRECTS, uri + " still redirects (" + status + ") after " + MAX_REDIRECTS + " redirects");
        }
        if (status == 408 || status == 429 || status >= 500) return FetchException.serverBusy(uri + " answered " + status, retryAfter(h.apply("Retry-After")));
        return FetchException.httpStatus(status, uri + " answered " + status);
    }

    /** Retry-After as seconds or an HTTP-date (RFC 9110 10.2.3); null when absent or unreadable. */
    static Duration retryAfter(Optional<String> v) {
        if (v.isEmpty()) return null;
        String s = v.get().trim();
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(s)));
        } catch (NumberFormatException e) {
            try {
                ZonedDateTime t = ZonedDateTime.parse(s, DateTimeFormatter.RFC_1123_DATE_TIME);
                Duration d = Duration.between(ZonedDateTime.now(t.getZone()), t);
                return d.isNegative() ? Duration.ZERO : d;
            } catch (java.time.format.DateTimeParseException e2) {
                return null;
            }
        }
    }
}
