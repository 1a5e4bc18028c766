package rsuota.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * lintian on both packages: no errors, and every warning it reports is listed with its
 * justification in docs/packaging.md (a new warning fails here until someone fixes or justifies it).
 */
class LintianTest {

    static final BuiltPackages BUILT = BuiltPackages.fromBuild();

    /** "W: rsu-agent: no-manual-page [usr/bin/rsu-agent]" */
    static final Pattern TAG = Pattern.compile("^([EWIPNCX]): ([a-z0-9.+-]+)(?: [a-z]+)?: ([a-z0-9.+-]+)(.*)$");

    record Finding(String severity, String pkg, String tag, String detail) {}

    static List<Finding> lintian(BuiltPackages.Deb d) {
        // --allow-root: the tests run as root (dpkg --root needs it); lintian only warns about that.
        Command.Result r = Command.run("lintian", "--allow-root", "--tag-display-limit", "0", d.file().toString());
        List<Finding> out = new ArrayList<>();
        for (String line : (r.out() + "\n" + r.err()).split("\n")) {
            Matcher m = TAG.matcher(line);
            if (m.matches()) out.add(new Finding(m.group(1), m.group(2), m.group(3), m.group(4).trim()));
        }
        // lintian exits 0 or with 2 for findings at the fail-on level (errors by default); anything else is lintian failing.
        assertThat(r.exit()).as(r.toString()).isIn(0, 1, 2);
        return out;
    }

    @Test
    void noErrorsAndEveryWarningIsJustifiedInTheDocs() {
        assertTrue(Command.available("lintian"), "lintian is not installed (scripts/test installs it)");
        String doc = BuiltPackages.read(BuiltPackages.projectRoot().resolve("docs/packaging.md"));
        for (BuiltPackages.Deb d : BUILT.both()) {
            List<Finding> findings = lintian(d);
            assertThat(findings).as(d.name() + " errors").filteredOn(f -> f.severity().equals("E")).isEmpty();
            for (Finding w : findings) {
                if (!w.severity().equals("W")) continue;
                assertThat(doc).as("docs/packaging.md justifies lintian warning " + w).contains("`" + w.tag() + "`");
            }
        }
    }
}
