package dev.l1ra.job;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.config.Args;
import dev.l1ra.model.engine.EngineInfo;
import dev.l1ra.model.parity.FixtureParity;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * {@code parity [--fixtures testdata/fixtures] [--device auto|cpu|gpu:N]}: the model-level parity
 * checks ({@link FixtureParity}) on a device, one line per check, then one JSON object. Exit code 1
 * when a check fails: run it on a new GPU or engine build before trusting a training run there.
 */
final class ParityCommand {
  private ParityCommand() {}

  static int run(String[] argv) {
    Args a = Args.parse("parity", argv, Set.of("fixtures", "device"), Set.of());
    Path fixtures = Path.of(a.get("fixtures", "testdata/fixtures"));
    Device device = EngineInfo.device(a.get("device", "auto"));
    List<FixtureParity.Check> checks = FixtureParity.run(fixtures, device);
    checks.forEach(System.out::println);
    long failed = checks.stream().filter(c -> !c.passed()).count();
    ObjectNode n = new ObjectMapper().createObjectNode();
    n.put("device", device.toString());
    n.put("checks", checks.size());
    n.put("failed", failed);
    ArrayNode worst = n.putArray("failures");
    checks.stream().filter(c -> !c.passed()).forEach(c -> worst.add(c.name()));
    System.out.println(n);
    return failed == 0 ? 0 : 1;
  }
}
