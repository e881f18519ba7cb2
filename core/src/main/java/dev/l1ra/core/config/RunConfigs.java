package dev.l1ra.core.config;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
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
 * Reads and writes run configurations (YAML, snake_case keys). Unknown keys, keys given twice,
 * wrong types and invalid values are reported with the full key path, e.g. {@code config key
 * train.lrr is unknown; known keys in train: lr, schedule, ...}.
 *
 * <p>Each section is read through a private {@code Keys} record (the keys as written, absent ones
 * null, no checks), so a misspelt key is reported as unknown before the section's own checks would
 * call a required key missing; the section's {@code of} then fills in the defaults and its compact
 * constructor validates the resolved values. Enumerated values are spelt as their {@code
 * toString()} (lower case).
 */
public final class RunConfigs {
  /** Reads and writes configs here; configured once (a mapper is thread-safe when configured). */
  private static final ObjectMapper MAPPER = yaml();

  private RunConfigs() {}

  /** The YAML mapper every config reader and writer in the project uses. */
  public static ObjectMapper yaml() {
    YAMLFactory factory = new YAMLFactory().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER);
    factory.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    return new ObjectMapper(factory)
        .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
        .enable(DeserializationFeature.READ_ENUMS_USING_TO_STRING)
        .enable(SerializationFeature.WRITE_ENUMS_USING_TO_STRING);
  }

  /**
   * Loads a YAML run config, applying {@code key.path=value} overrides first (values are YAML
   * scalars: numbers, booleans, strings).
   */
  public static RunConfig load(Path file, List<String> overrides) {
    JsonNode tree = readTree(file);
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

  /** Reads a YAML file as a tree; a key given twice in one mapping is an error naming it. */
  public static JsonNode readTree(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new ConfigException("config file " + file + " does not exist");
    }
    try {
      return MAPPER.readTree(file.toFile());
    } catch (JsonParseException e) {
      if (e.getOriginalMessage().startsWith("Duplicate field")) { // Jackson's duplicate detection
        throw new ConfigException(
            "config file "
                + file
                + ": config key "
                + keyPath(e)
                + " is given twice"
                + location(e)
                + "; keep one",
            e);
      }
      throw new ConfigException("config file " + file + " is not valid YAML: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new ConfigException("config file " + file + " is not valid YAML: " + e.getMessage(), e);
    }
  }

  /** The dotted path of the key the parser stopped at. */
  private static String keyPath(JsonParseException e) {
    JsonParser p = e.getProcessor();
    return p == null
        ? "(unknown)"
        : p.getParsingContext().pathAsPointer().toString().substring(1).replace('/', '.');
  }

  private static String location(JsonParseException e) {
    return e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")";
  }

  /** Converts a tree to a config record with messages that name the key path. */
  public static <T> T parse(JsonNode tree, Class<T> type) {
    try {
      return MAPPER.treeToValue(tree, type);
    } catch (UnrecognizedPropertyException e) {
      String known =
          e.getKnownPropertyIds().stream()
              .map(Object::toString)
              .sorted()
              .collect(Collectors.joining(", "));
      throw new ConfigException(
          "config key " + path(e) + " is unknown; known keys" + parentOf(e) + ": " + known);
    } catch (InvalidFormatException e) {
      throw badValue(e);
    } catch (JsonMappingException e) {
      for (Throwable c = e; c != null; c = c.getCause()) {
        if (c instanceof ConfigException ce) {
          throw ce;
        }
        if (c instanceof IllegalArgumentException iae
            && c != e
            && !(c instanceof JsonProcessingException)) {
          throw new ConfigException(
              "config key " + path(e) + scalarAt(tree, e) + ": " + iae.getMessage(), iae);
        }
      }
      throw new ConfigException(
          "config key " + path(e) + " has a wrong value or type: " + e.getOriginalMessage(), e);
    } catch (JsonProcessingException e) {
      throw new ConfigException("config cannot be read: " + e.getOriginalMessage(), e);
    }
  }

  /** A section with every key absent, i.e. all its defaults. */
  static <T> T defaults(Class<T> section) {
    return parse(MAPPER.createObjectNode(), section);
  }

  /** A value of the wrong kind: an enumerated value outside its set, a fraction for a count, ... */
  private static ConfigException badValue(InvalidFormatException e) {
    Class<?> type = e.getTargetType();
    if (type != null && type.isEnum()) {
      return ConfigException.notOneOf(path(e), e.getValue(), List.of(type.getEnumConstants()));
    }
    return new ConfigException(
        "config key " + path(e) + " = " + e.getValue() + ": " + expected(type, e), e);
  }

  private static String expected(Class<?> type, InvalidFormatException e) {
    if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
      return "must be an integer";
    }
    if (type == Double.class || type == double.class) {
      return "must be a number";
    }
    if (type == Boolean.class || type == boolean.class) {
      return "must be true or false";
    }
    return "has a wrong value or type (" + e.getOriginalMessage() + ")";
  }

  /** " = value" when the failing key holds a scalar in the tree, else nothing. */
  private static String scalarAt(JsonNode tree, JsonMappingException e) {
    JsonNode n = tree;
    for (JsonMappingException.Reference r : e.getPath()) {
      n = r.getFieldName() != null ? n.path(r.getFieldName()) : n.path(r.getIndex());
    }
    return n.isValueNode() ? " = " + n.asText() : "";
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
      value = MAPPER.readTree(override.substring(eq + 1));
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
      return MAPPER.writeValueAsString(config);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write config as YAML", e);
    }
  }
}
