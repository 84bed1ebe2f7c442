"""One module per `pgshift` verb: NAME, HELP, optional ALIASES and ORDER, add_arguments(parser), run(args, ctx)."""
