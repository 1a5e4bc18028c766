package rsuota.hal.boot.uboot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import rsuota.hal.boot.BootControlException;
import rsuota.hal.boot.Slot;

class UBootSlotEnvTest {

    /** One run of RAUC's boot script, as rows: env before -> slot booted, env saved. Default tries 3. */
    @ParameterizedTest(name = "ORDER={0} A={1} B={2} -> boots {3}, A={4} B={5}")
    @CsvSource({
        // first slot in the order with tries left loses one and boots
        "A B, 3, 3, A, 2, 3",
        "B A, 3, 3, B, 3, 2",
        "B A, 3, 1, B, 3, 0",
        // a slot with no tries left is skipped: fallback
        "B A, 2, 0, A, 1, 0",
        // a slot missing from the order is never booted, whatever its tries
        "B,   3, 1, B, 3, 0",
        // nothing bootable: all tries back to the default, the board resets, the first in order boots
        "B A, 0, 0, B, 3, 2",
        "A,   0, 3, A, 2, 3",
    })
    void bootScript(String order, int a, int b, Slot booted, int aAfter, int bAfter) throws Exception {
        UBootSlotEnv env = UBootSlotEnv.fromVariables(
                Map.of("BOOT_ORDER", order, "BOOT_A_LEFT", "" + a, "BOOT_B_LEFT", "" + b), 3, "test");

        UBootSlotEnv.Boot boot = env.boot(3);

        assertThat(boot.slot()).isEqualTo(booted);
        assertThat(boot.env().left()).isEqualTo(Map.of(Slot.A, aAfter, Slot.B, bAfter));
        assertThat(boot.env().order()).isEqualTo(env.order());
    }

    @Test
    void missingOrEmptyVariablesTakeTheBootScriptsDefaults() throws Exception {
        UBootSlotEnv env = UBootSlotEnv.fromVariables(Map.of("BOOT_ORDER", "", "BOOT_B_LEFT", "1"), 2, "test");
        assertThat(env.order()).containsExactly(Slot.A, Slot.B);
        assertThat(env.left()).isEqualTo(Map.of(Slot.A, 2, Slot.B, 1));
    }

    @ParameterizedTest(name = "{0}=''{1}''")
    @CsvSource({
        "BOOT_ORDER,  A C,  contains 'C'",
        "BOOT_ORDER,  a b,  contains 'a'",
        "BOOT_ORDER,  A A,  names slot A twice",
        "BOOT_A_LEFT, x,    is not a tries count",
        "BOOT_B_LEFT, -1,   is not a tries count",
        "BOOT_B_LEFT, 0x3,  is not a tries count",
    })
    void garbageIsRefusedNamingTheVariable(String name, String value, String why) {
        assertThatThrownBy(() -> UBootSlotEnv.fromVariables(Map.of(name, value), 3, "uboot"))
                .isInstanceOf(BootControlException.class)
                .hasMessageStartingWith("uboot backend: " + name + "=")
                .hasMessageContaining(why);
    }

    @Test
    void trialPutsTheSlotFirstAndLeavesTheOtherAlone() {
        UBootSlotEnv env = new UBootSlotEnv(List.of(Slot.A, Slot.B), Map.of(Slot.A, 2, Slot.B, 0)).withTrial(Slot.B, 5);
        assertThat(env.variables()).containsExactly(
                Map.entry("BOOT_ORDER", "B A"), Map.entry("BOOT_A_LEFT", "2"), Map.entry("BOOT_B_LEFT", "5"));
    }

    @Test
    void triesAboveNineAreRefusedBecauseUBootWouldMisreadThem() {
        UBootSlotEnv env = UBootSlotEnv.initial(Slot.A, 3);
        assertThatThrownBy(() -> env.withTrial(Slot.B, 10)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1..9");
        assertThatThrownBy(() -> env.withTrial(Slot.B, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
