# The recipe's step 7 heredoc, verbatim (indentation removed): run by bash with the
# recipe's variables set, it writes firehose-config.json as the recipe does.
cat > firehose-config.json << EOF
{
  "DeliveryStreamName": "${FIREHOSE_STREAM_NAME}",
  "DeliveryStreamType": "DirectPut",
  "ExtendedS3DestinationConfiguration": {
    "RoleARN": "${FIREHOSE_ROLE_ARN}",
    "BucketARN": "arn:aws:s3:::${S3_BUCKET_NAME}",
    "Prefix": "processed-data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/",
    "ErrorOutputPrefix": "error-data/",
    "BufferingHints": {
      "SizeInMBs": 5,
      "IntervalInSeconds": 300
    },
    "CompressionFormat": "GZIP",
    "ProcessingConfiguration": {
      "Enabled": true,
      "Processors": [
        {
          "Type": "Lambda",
          "Parameters": [
            {
              "ParameterName": "LambdaArn",
              "ParameterValue": "${LAMBDA_FUNCTION_ARN}"
            },
            {
              "ParameterName": "BufferSizeInMBs",
              "ParameterValue": "1"
            },
            {
              "ParameterName": "BufferIntervalInSeconds",
              "ParameterValue": "60"
            }
          ]
        }
      ]
    },
    "DataFormatConversionConfiguration": {
      "Enabled": true,
      "OutputFormatConfiguration": {
        "Serializer": {
          "ParquetSerDe": {}
        }
      },
      "SchemaConfiguration": {
        "DatabaseName": "default",
        "TableName": "streaming_etl_data",
        "RoleARN": "${FIREHOSE_ROLE_ARN}"
      }
    },
    "CloudWatchLoggingOptions": {
      "Enabled": true,
      "LogGroupName": "/aws/kinesisfirehose/${FIREHOSE_STREAM_NAME}"
    }
  }
}
EOF
