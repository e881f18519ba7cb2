package dev.l1ra.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * A CPU run prints no engine warning: the engine started as {@code ./submit.sh --local} starts it
 * (conf/log4j2.properties through Log4j, as in a local run; the test build's own logger is left
 * out) shows no WARN line. DJL probes for CUDA at start-up whatever the device, and on a host with
 * a CUDA runtime but no GPU driver warned "Failed to detect GPU count" twice per engine start.
 */
class QuietCpuRunTest {
  @Test
  void theEngineStartsOnTheCpuWithoutWarnings() throws Exception {
    String cp =
        Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
            .filter(e -> !e.contains("slf4j-simple"))
            .collect(Collectors.joining(File.pathSeparator));
    for (String device : List.of("auto", "cpu")) {
      ProcessBuilder pb =
          new ProcessBuilder(
                  ProcessHandle.current().info().command().orElse("java"),
                  "-Dai.djl.offline=true",
                  "-Dlog4j2.configurationFile=" + PresetsTest.CONF.resolve("log4j2.properties"),
                  "-cp",
                  cp,
                  QuietEngineStart.class.getName(),
                  device)
              .redirectErrorStream(true);
      pb.environment().put("MKL_DYNAMIC", "FALSE");
      pb.environment().put("OPT_OUT_TRACKING", "true");
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(120, TimeUnit.SECONDS));
      assertEquals(0, p.exitValue(), out);
      assertTrue(out.contains("sum 4.0"), out);
      assertTrue(
          out.lines().noneMatch(l -> l.contains(" WARN ") || l.contains("ERROR")),
          "device " + device + ":\n" + out);
    }
  }
}
