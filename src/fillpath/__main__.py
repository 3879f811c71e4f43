from fillpath.cli.main import run

run()
