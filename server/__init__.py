"""pgshift's front ends: the command line, the language server and the MCP server, thin over `engine`."""
