package org.chefbackend.ctl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.chefbackend.config.Settings;
import org.chefbackend.postgres.PostgresRecipe;
import org.chefbackend.postgres.PostgresqlConf;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "show-config", mixinStandardHelpOptions = true,
        description = "Print the effective settings (chef-backend.rb over the defaults) as JSON, with the "
                + "postgresql.conf parameters they render to.")
final class ShowConfigCommand implements Callable<Integer> {
    @Mixin
    NodeOptions node;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws JsonProcessingException {
        Settings settings = node.settings();
        Map<String, Object> doc = new LinkedHashMap<>(settings.asTree());
        Map<String, String> conf = PostgresqlConf.parameters(settings);
        PostgresRecipe.archiving(conf, settings, node.paths());
        doc.put("rendered", Map.of("postgresql.conf", conf));
        String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc);
        spec.commandLine().getOut().println(json);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
