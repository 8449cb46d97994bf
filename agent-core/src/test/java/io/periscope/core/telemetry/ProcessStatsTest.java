package io.periscope.core.telemetry;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProcessStatsTest {
    // A comm with a space and a ')' inside: field counting must start after the last ')'.
    private static final String STAT = "4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 1234 0 0 0 "
            + "250 75 0 0 20 0 12 0 987654 123456789 5000 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 "
            + "0 0 0 0 0";

    @Test
    void shouldReadCpuTicksAndStartTimeAfterTheComm() {
        assertThat(ProcessStats.cpuTicks(STAT)).isEqualTo(325);
        assertThat(ProcessStats.startTimeTicks(STAT)).isEqualTo(987654);
        assertThat(ProcessStats.field(STAT, 3)).isEqualTo("S");
    }

    @Test
    void shouldReadVmRssInBytes() {
        String status = "Name:\tjava\nVmPeak:\t  900 kB\nVmRSS:\t  123456 kB\nThreads:\t30\n";
        assertThat(ProcessStats.rssBytes(status)).isEqualTo(123456L * 1024);
        assertThat(ProcessStats.rssBytes("Name:\tkthreadd\n")).isZero();
    }

    @Test
    void shouldRejectTextThatIsNotAStatLine() {
        assertThatThrownBy(() -> ProcessStats.cpuTicks("garbage")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ProcessStats.field("1 (x) S", 14)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldMeasureThisProcess() {
        ProcessStats self = ProcessStats.self();
        assertThat(self.rssBytes()).isGreaterThan(1024L * 1024);
        assertThat(self.cpuSeconds()).isGreaterThan(0.0);
    }
}
