package rsuota.lab.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.lab.scenario.ScenarioFile;

class ScenarioSmokeTest {
    @TempDir Path tmp;

    @Test
    void happyPath() throws Exception {
        RunReport r = LabRun.run(ScenarioFile.load(System.getProperty("scenario", "happy-path")), new LabRun.Options(tmp.resolve("work"), false, LabView.NONE));
        r.timeline().forEach(e -> System.out.printf("%7.1f %-8s %-10s %s%n", e.t() / 1000.0, e.kind(), e.subject(), e.text()));
        System.out.println(r.failures());
        assertThat(r.failures()).isEmpty();
    }
}
