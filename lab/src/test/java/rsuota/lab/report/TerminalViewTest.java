package rsuota.lab.report;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TerminalViewTest {
    @Test
    void fitCutsVisibleCharactersAndKeepsColourCodes() {
        String red = "\033[31m";
        String reset = "\033[0m";
        String line = "ab" + red + "cdef" + reset + "gh";
        assertThat(TerminalView.fit(line, 4)).isEqualTo("ab" + red + "cd" + reset + reset);
        assertThat(TerminalView.fit(line, 20)).isEqualTo(line);
        assertThat(TerminalView.fit("plain text", 5)).isEqualTo("plain" + reset);
    }
}
