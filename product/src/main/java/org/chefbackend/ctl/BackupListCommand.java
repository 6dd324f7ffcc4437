package org.chefbackend.ctl;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.backup.RepositoryReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "backup-list", mixinStandardHelpOptions = true,
        description = "List the base backups in backup.repository and the window restore --repository can reach: from "
                + "the end of the oldest backup to the newest archived WAL segment.")
final class BackupListCommand implements Callable<Integer> {
    @Mixin
    RootOptions node;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        NodeContext ctx = RepositoryCommands.context(node);
        PrintWriter out = spec.commandLine().getOut();
        out.print(RepositoryCommands.read(() -> RepositoryReport.listing(ctx)));
        out.flush();
        return 0;
    }
}
