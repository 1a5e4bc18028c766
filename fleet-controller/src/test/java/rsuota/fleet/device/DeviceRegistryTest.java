package rsuota.fleet.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import rsuota.fleet.audit.AuditLog;
import rsuota.fleet.domain.Device;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;
import rsuota.fleet.domain.Principal;
import rsuota.fleet.domain.Role;
import rsuota.fleet.store.Database;
import rsuota.fleet.store.StoreSpec;
import rsuota.fleet.testing.StoreEngine;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import rsuota.fleet.store.Table;
import rsuota.fixtures.time.SettableClock;

@ParameterizedClass(name = "{0}")
@EnumSource(StoreEngine.class)
class DeviceRegistryTest {
    @TempDir
    Path dir;
    final SettableClock clock = new SettableClock(Instant.parse("2026-03-01T10:00:00Z"));
    final Principal rm = new Principal("rm", Role.RELEASE_MANAGER);
    @Parameter
    StoreEngine engine;
    StoreSpec spec;
    Database db;
    DeviceRegistry registry;

    @BeforeEach
    void open() throws Exception {
        spec = engine.fresh(dir, "device_registry");
        db = spec.open(clock);
        registry = new DeviceRegistry(db, new AuditLog(clock), clock);
    }

    @AfterEach
    void close() {
        db.close();
    }

    @Test
    void stateReportsUpsertAndLastSeenOnlyMovesForward() throws Exception {
        Instant t0 = clock.instant();
        Device d = registry.registerFromState("rsu-7", "rsu-a1", "north", "i-90", "cab-7", List.of("b", "a", "b"), t0);
        assertThat(d.record().tags()).containsExactly("a", "b");
        assertThat(d.lastSeen()).isEqualTo(t0);
        registry.registerFromState("rsu-7", "rsu-a2", "south", null, null, List.of(), t0.plus(Duration.ofMinutes(5)));
        Device late = registry.registerFromState("rsu-7", "rsu-a2", "south", null, null, List.of(), t0.plus(Duration.ofMinutes(1)));
        assertThat(late.lastSeen()).as("an out-of-order report does not make the device look older").isEqualTo(t0.plus(Duration.ofMinutes(5)));
        assertThat(late.record().region()).isEqualTo("south");
        assertThat(late.variant()).isEqualTo("rsu-a2");
        assertThat(db.<Long>read(tx -> tx.count(Table.AUDIT))).as("telemetry is not audited").isZero();
        assertThat(registry.recordState("rsu-7", "{\"deployment\":\"activated\"}", t0.plus(Duration.ofMinutes(9)))).isTrue();
        assertThat(registry.get("rsu-7").reportedState()).contains("activated");
        assertThat(registry.recordState("nobody", "{}", t0)).isFalse();
    }

    @Test
    void aBadStateReportNamesTheFieldAndStoresNothing() {
        FleetException e = catchThrowableOfType(FleetException.class,
                () -> registry.registerFromState("rsu/7", "rsu-a1", null, null, null, null, clock.instant()));
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(e.details()).containsEntry("field", "id");
    }

    @Test
    void csvInventoryImportsEveryRow() throws Exception {
        String csv = """
                # fleet inventory, exported from the asset database
                id,variant,region,corridor,site,tags
                rsu-1,rsu-a1,north,i-90,"cab 1",pilot-ok;solar
                rsu-2,rsu-a2,north,,,
                rsu-3,rsu-a1,south,i-35,cab-3,
                """;
        DeviceRegistry.ImportResult r = registry.importInventory(rm, csv, InventoryFormat.CSV, "initial load");
        assertThat(r).isEqualTo(new DeviceRegistry.ImportResult(3, 3, 0));
        Device d1 = registry.get("rsu-1");
        assertThat(d1.record().tags()).containsExactly("pilot-ok", "solar");
        assertThat(d1.record().site()).isEqualTo("cab 1");
        assertThat(registry.get("rsu-2").record().corridor()).as("an empty cell is no value").isNull();
    }

    @Test
    void jsonInventoryImportsAndUpdates() throws Exception {
        registry.registerFromState("rsu-1", "rsu-a1", "north", null, null, null, clock.instant());
        String json = """
                {"devices": [
                  {"id": "rsu-1", "variant": "rsu-a1", "region": "west", "tags": ["x"]},
                  {"id": "rsu-2", "variant": "rsu-b1", "corridor": "i-5"}
                ]}""";
        assertThat(registry.importInventory(rm, json, InventoryFormat.JSON, null)).isEqualTo(new DeviceRegistry.ImportResult(2, 1, 1));
        assertThat(registry.get("rsu-1").record().region()).isEqualTo("west");
        assertThat(registry.get("rsu-1").lastSeen()).as("an import keeps the last contact").isEqualTo(clock.instant());
        assertThat(db.<Long>read(tx -> tx.count(Table.AUDIT))).as("one import, one entry").isEqualTo(1);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            bad variant on line 3       | CSV  | 'id,variant\\nrsu-1,rsu-a1\\nrsu-2,has space\\n'            | 3 | variant
            unknown column              | CSV  | 'id,variant,colour\\nrsu-1,rsu-a1,red\\n'                   | 1 | colour
            missing variant column      | CSV  | 'id,region\\nrsu-1,north\\n'                                | 1 | variant
            short row                   | CSV  | 'id,variant,region\\nrsu-1,rsu-a1\\n'                       | 2 | *
            duplicate id                | CSV  | 'id,variant\\nrsu-1,rsu-a1\\n\\nrsu-1,rsu-a2\\n'            | 4 | id
            empty variant               | CSV  | 'id,variant\\nrsu-1,\\n'                                    | 2 | variant
            tag with a space            | CSV  | 'id,variant,tags\\nrsu-1,rsu-a1,"solar;two words"\\n'      | 2 | tags
            json bad tag type           | JSON | '[\\n{"id":"rsu-1","variant":"rsu-a1"},\\n{"id":"rsu-2","variant":"rsu-a1","tags":[1]}\\n]' | 3 | tags
            json unknown field          | JSON | '[\\n{"id":"rsu-1","variant":"rsu-a1","colour":"red"}\\n]' | 2 | colour
            json missing id             | JSON | '[\\n{"variant":"rsu-a1"}\\n]'                              | 2 | id
            json not an array           | JSON | '{"rows": []}'                                               | 1 | rows
            json broken                 | JSON | '[\\n{"id": "rsu-1",\\n'                                     | 3 | *
            """)
    void aBadRowNamesLineAndFieldAndNothingIsImported(String name, InventoryFormat format, String content, int line, String field) throws Exception {
        String text = content.replace("\\n", "\n");
        FleetException e = catchThrowableOfType(FleetException.class, () -> registry.importInventory(rm, text, format, null));
        assertThat(e).as(name).isNotNull();
        assertThat(e.code()).isEqualTo(ErrorCode.INVENTORY_INVALID);
        assertThat(e.details()).containsEntry("line", line).containsEntry("field", field);
        assertThat(e.getMessage()).contains("line " + line).contains("nothing was imported");
        assertThat(db.<Long>read(tx -> tx.count(Table.DEVICES))).isZero();
        assertThat(db.<Long>read(tx -> tx.count(Table.AUDIT))).isZero();
    }
}
