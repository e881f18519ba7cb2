package dev.l1ra.core.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Reads and writes run configurations (YAML, snake_case keys). Unknown keys, wrong types and
 * invalid values are reported with the full key path, e.g. {@code config key train.lrr is unknown;
 * known keys in train: lr, schedule, ...}.
 */
public final class RunConfigs {
  private RunConfigs() {}

  /** The YAML mapper every config reader and writer in the project uses. */
  public static ObjectMapper yaml() {
    return new ObjectMapper(new YAMLFactory().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER))
        .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
  }

  /**
   * Loads a YAML run config, applying {@code key.path=value} overrides first (values are YAML
   * scalars: numbers, booleans, strings).
   */
  public static RunConfig load(Path file, List<String> overrides) {
    if (!Files.isRegularFile(file)) {
      throw new ConfigException("config file " + file + " does not exist");
    }
    JsonNode tree;
    try {
      tree = yaml().readTree(file.toFile());
    } catch (IOException e) {
      throw new ConfigException("config file " + file + " is not valid YAML: " + e.getMessage(), e);
    }
    if (tree == null || !tree.isObject()) {
      throw new ConfigException(
          "config file " + file + " must be a YAML mapping of sections (run, model, data, ...)");
    }
    for (String o : overrides) {
      applyOverride((ObjectNode) tree, o);
    }
    try {
      return parse(tree, RunConfig.class);
    } catch (ConfigException e) {
      throw new ConfigException(file + ": " + e.getMessage(), e);
    }
  }

  /** Converts a tree to a config record with messages that name the key path. */
  public static <T> T parse(JsonNode tree, Class<T> type) {
    try {
      return yaml().treeToValue(tree, type);
    } catch (UnrecognizedPropertyException e) {
      String known =
          e.getKnownPropertyIds().stream()
              .map(Object::toString)
              .sorted()
              .collect(Collectors.joining(", "));
      throw new ConfigException(
          "config key " + path(e) + " is unknown; known keys" + parentOf(e) + ": " + known);
    } catch (JsonMappingException e) {
      for (Throwable c = e; c != null; c = c.getCause()) {
        if (c instanceof ConfigException ce) {
          throw ce;
        }
        if (c instanceof IllegalArgumentException iae
            && c != e
            && !(c instanceof JsonProcessingException)) {
          throw new ConfigException("config key " + path(e) + ": " + iae.getMessage(), iae);
        }
      }
      throw new ConfigException(
          "config key " + path(e) + " has a wrong value or type: " + e.getOriginalMessage(), e);
    } catch (JsonProcessingException e) {
      throw new ConfigException("config cannot be read: " + e.getOriginalMessage(), e);
    }
  }

  private static String path(JsonMappingException e) {
    return e.getPath().stream()
        .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
        .collect(Collectors.joining("."));
  }

  private static String parentOf(JsonMappingException e) {
    List<JsonMappingException.Reference> p = e.getPath();
    return p.size() < 2 ? "" : " in " + p.get(p.size() - 2).getFieldName();
  }

  /** Applies one {@code a.b.c=value} override to a YAML tree. */
  static void applyOverride(ObjectNode root, String override) {
    int eq = override.indexOf('=');
    if (eq <= 0) {
      throw new ConfigException("override \"" + override + "\" must look like section.key=value");
    }
    String[] keys = override.substring(0, eq).trim().split("\\.");
    JsonNode value;
    try {
      value = yaml().readTree(override.substring(eq + 1));
    } catch (JsonProcessingException e) {
      throw new ConfigException("override \"" + override + "\": value is not valid YAML");
    }
    ObjectNode node = root;
    for (int i = 0; i < keys.length - 1; i++) {
      JsonNode child = node.get(keys[i]);
      if (child == null || !child.isObject()) {
        child = node.putObject(keys[i]);
      }
      node = (ObjectNode) child;
    }
    node.set(keys[keys.length - 1], value == null || value.isMissingNode() ? null : value);
  }

  /** The resolved config (defaults filled in) as YAML, written beside the run's outputs. */
  public static String toYaml(RunConfig config) {
    try {
      return yaml().writeValueAsString(config);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write config as YAML", e);
    }
  }
}
