package rsuota.lab.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.nio.file.Path;
import rsuota.lab.run.RunReport;

/** {@code report.json}: the run as data (ISO-8601 times), for CI to archive and tools to compare. */
public final class ReportJson {
    private ReportJson() {}

    static final ObjectMapper JSON = JsonMapper.builder().addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).enable(SerializationFeature.INDENT_OUTPUT).build();

    public static void write(RunReport r, Path file) throws IOException {
        JSON.writeValue(file.toFile(), r);
    }

    /** Reads a report.json back (to draw its page again, e.g. after the lab's report got better). */
    public static RunReport read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), RunReport.class);
    }
}
