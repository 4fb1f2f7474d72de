import django.core.validators
import users.validators
from django.db import migrations, models


def revoke_every_token(apps, schema_editor):
    # A token issued before this migration has no password MAC (its key is not stored, so none
    # can be computed) and may be one of many for its user: it cannot be kept. Clients ask
    # POST auth/token for a new one.
    apps.get_model("users", "Token").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ('users', '0003_unicode_text'),
    ]

    operations = [
        migrations.RunPython(revoke_every_token, migrations.RunPython.noop),
        migrations.AddField(
            model_name='token',
            name='client',
            field=models.CharField(default='default', help_text='Who holds the token (a CLI, a laptop); one token per user and name.', max_length=64, validators=[django.core.validators.ProhibitNullCharactersValidator(), users.validators.UnicodeTextValidator()], verbose_name='client name'),
        ),
        migrations.AddField(
            model_name='token',
            name='password_mac',
            field=models.CharField(default='', editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name='token',
            constraint=models.UniqueConstraint(fields=('user', 'client'), name='token_one_per_client'),
        ),
    ]
