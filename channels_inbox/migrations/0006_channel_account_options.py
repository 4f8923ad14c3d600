from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("channels_inbox", "0005_mailbox_cursor"),
    ]

    operations = [
        migrations.AddField(
            model_name="channelaccount",
            name="options",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text='Settings that are not secret, e.g. {"smtp_host": "smtp.shop.test"}.',
            ),
        ),
    ]
