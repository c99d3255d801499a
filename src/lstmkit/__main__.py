from lstmkit.cli import app

app(prog_name="lstmkit")
