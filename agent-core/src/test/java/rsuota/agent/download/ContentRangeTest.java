package rsuota.agent.download;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * {@link RangeCheck#contentRange} reads exactly what the pattern {@code bytes (\d+)-(\d+)/(\d+)} with
 * {@code Long.parseLong} read before it replaced them: the same values, and null wherever that refused.
 */
class ContentRangeTest {
    private static final Pattern ORACLE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+)");

    /** What the pattern and {@code Long.parseLong} gave: the numbers, or null for "unreadable". */
    private static long[] oracle(String s) {
        Matcher m = ORACLE.matcher(s);
        if (!m.matches()) return null;
        try {
            return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3))};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Test
    void namedCases() {
        assertThat(RangeCheck.contentRange("bytes 0-99/1000")).containsExactly(0, 99, 1000);
        assertThat(RangeCheck.contentRange("bytes 9223372036854775806-9223372036854775807/9223372036854775807"))
                .containsExactly(Long.MAX_VALUE - 1, Long.MAX_VALUE, Long.MAX_VALUE);
        for (String bad : new String[] {"", "bytes ", "bytes 0-99/", "bytes 0-99", "bytes -99/100", "bytes 0-/100", "bytes 0-99/*",
                "bytes */1000", "Bytes 0-99/1000", "bytes  0-99/1000", "bytes 0-99/1000 ", "bytes 0-99/1000x", "bytes +0-99/1000",
                "bytes 0-99/9223372036854775808", "bytes ٠-99/1000", "bytes 0-99-100/1000", "bytes 0/99-1000"}) {
            assertThat(RangeCheck.contentRange(bad)).as("'%s'", bad).isNull();
            assertThat(oracle(bad)).as("the pattern refused '%s' too", bad).isNull();
        }
    }

    @Property(tries = 3000)
    void agreesWithThePatternItReplaced(@ForAll("headers") String s) {
        long[] want = oracle(s);
        long[] got = RangeCheck.contentRange(s);
        if (want == null) assertThat(got).as("'%s'", s).isNull();
        else assertThat(got).as("'%s'", s).containsExactly(want);
    }

    /** Mostly well-formed values, cut, stretched or with one character changed. */
    @Provide
    Arbitrary<String> headers() {
        Arbitrary<String> number = Arbitraries.oneOf(Arbitraries.longs().between(0, Long.MAX_VALUE).map(String::valueOf),
                Arbitraries.strings().withChars("0123456789").ofMinLength(0).ofMaxLength(21));
        Arbitrary<String> good = net.jqwik.api.Combinators.combine(number, number, number).as((a, b, c) -> "bytes " + a + "-" + b + "/" + c);
        return net.jqwik.api.Combinators.combine(good, Arbitraries.integers().between(0, 40), Arbitraries.chars().with("0-/ bx*+٠\t".toCharArray()),
                Arbitraries.integers().between(0, 3)).as((g, at, ch, how) -> {
                    int i = Math.min(at, g.length());
                    return switch (how) {
                        case 0 -> g;
                        case 1 -> g.substring(0, i);
                        case 2 -> g.substring(0, i) + ch + g.substring(i);
                        default -> i < g.length() ? g.substring(0, i) + ch + g.substring(i + 1) : g + ch;
                    };
                });
    }
}
